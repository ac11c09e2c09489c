/**
 * The route table's machinery. A route is one method on one path pattern, with the roles that
 * may call it and the error shape it speaks; {@link createRouteIndex} compiles a table so that a
 * request resolves to its route — or to the 404 or 405 it deserves — together with the roles
 * that get past authorisation.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Router } from '../router.js';
import type { Principal, Role } from './auth.js';
import type { ErrorStyle } from './respond.js';

/** Everything a route handler gets. */
export interface RouteContext {
  router: Router;
  req: IncomingMessage;
  res: ServerResponse;
  /** Path parameters (`id`, `model`). */
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  /** Largest accepted JSON body of the admin API. */
  bodyLimit: number;
  /** A body a host framework already parsed, if any. */
  preParsedBody: unknown;
  /** The authenticated caller; null on a public route. */
  principal: Principal | null;
}

/**
 * Who may call a route: a role, or `public` for the few routes anyone may call without a key
 * (`/healthz`, `/readyz`, the dashboard's files, and metrics when configured so).
 */
export type RouteRole = Role | 'public';

/** A route handler. */
export type RouteHandler = (ctx: RouteContext) => Promise<void>;

/** One row of the route table. */
export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /**
   * Path pattern, e.g. `/v0/endpoints/:id`: `:name` captures one segment, a final `*name` the
   * rest of the path (model ids contain `/`). The first segment is the route's root (`v0`).
   */
  path: string;
  /** Roles that may call the route. */
  roles: readonly RouteRole[];
  /** The error shape of the route: the admin API's, OpenAI's or Anthropic's. */
  errors: ErrorStyle;
  /** Also take the caller's key from `x-api-key` (as Anthropic clients send it), not only `Authorization: Bearer`. */
  xApiKey?: boolean;
  handle: RouteHandler;
}

/**
 * What a request resolves to. `handle` is set for a route; without it the request is a 405
 * (`allow` lists the path's methods) or a 404. `roles` are the roles that get past
 * authorisation: the route's own; for a 404 or 405, the roles that may call every route of the
 * path or root — other roles get a 403 and learn nothing about the routes they cannot use.
 */
export interface Resolution {
  errors: ErrorStyle;
  /** The key may come in `x-api-key` too. */
  xApiKey?: boolean;
  roles: ReadonlySet<RouteRole>;
  handle?: RouteHandler;
  allow?: readonly string[];
  params: Readonly<Record<string, string>>;
}

/** A compiled route table. */
export interface RouteIndex {
  /** The first path segments of the table's routes (`v0`, `v1`): the paths it serves. */
  readonly roots: readonly string[];
  /** Resolves a request (path without query); undefined for a path outside every root. */
  resolve(method: string, path: string): Resolution | undefined;
}

/** All routes of one path pattern. */
interface PathEntry {
  segments: readonly string[];
  methods: ReadonlyMap<string, Resolution>;
  /** The 405 answer for any other method. */
  notAllowed: Resolution;
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Roles that may call every one of `routes`. A public route is open to every role, so it narrows
 * nothing (a group of public routes only is `public`).
 */
function commonRoles(routes: readonly Route[]): ReadonlySet<RouteRole> {
  const keyed = routes.filter((route) => !route.roles.includes('public'));
  if (keyed.length === 0) return new Set<RouteRole>(['public']);
  return new Set(keyed[0]!.roles.filter((role) => keyed.every((route) => route.roles.includes(role))));
}

/** The one error shape of the routes of a path. */
function errorsOf(routes: readonly Route[], where: string): ErrorStyle {
  const errors = routes[0]!.errors;
  if (routes.some((route) => route.errors !== errors)) throw new Error(`routes under ${where} mix error shapes`);
  return errors;
}

/** Groups routes by a key, keeping the table's order. */
function groupBy(routes: readonly Route[], key: (route: Route) => string): Map<string, Route[]> {
  const groups = new Map<string, Route[]>();
  for (const route of routes) {
    const group = groups.get(key(route));
    if (group) group.push(route);
    else groups.set(key(route), [route]);
  }
  return groups;
}

function compilePath(path: string, routes: readonly Route[]): PathEntry {
  const errors = errorsOf(routes, path);
  const methods = new Map<string, Resolution>();
  for (const route of routes) {
    if (methods.has(route.method)) throw new Error(`${route.method} ${path} is in the route table twice`);
    const resolution: Resolution = { errors, roles: new Set(route.roles), handle: route.handle, params: NO_PARAMS };
    if (route.xApiKey === true) resolution.xApiKey = true;
    methods.set(route.method, resolution);
  }
  // HEAD is GET without a body (Node drops the body of HEAD responses).
  const allow = [...methods.keys()].flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]));
  const notAllowed: Resolution = { errors, roles: commonRoles(routes), allow, params: NO_PARAMS };
  if (routes.every((route) => route.xApiKey === true)) notAllowed.xApiKey = true;
  return { segments: path.split('/').slice(1), methods, notAllowed };
}

/** Matches decoded path segments against an entry's pattern; the captured parameters, or null. */
function matchSegments(pattern: readonly string[], segments: readonly string[]): Record<string, string> | null {
  const rest = pattern.at(-1)?.startsWith('*') === true;
  if (rest ? segments.length < pattern.length : segments.length !== pattern.length) return null;
  const params: Record<string, string> = {};
  for (const [i, expected] of pattern.entries()) {
    if (expected.startsWith('*')) params[expected.slice(1)] = segments.slice(i).join('/');
    else if (expected.startsWith(':')) params[expected.slice(1)] = segments[i]!;
    else if (expected !== segments[i]) return null;
  }
  return params;
}

/** Splits a path into decoded, non-empty segments; null when it is not decodable. */
function segmentsOf(path: string): string[] | null {
  try {
    return path.split('/').filter((s) => s !== '').map(decodeURIComponent);
  } catch {
    return null;
  }
}

/**
 * Compiles a route table. Paths without parameters are found by one map lookup (the hot path);
 * the others, and spellings such as a trailing slash, by matching segments in table order.
 *
 * @example
 * const index = createRouteIndex(ROUTES);
 * index.resolve('GET', '/v0/endpoints')?.handle;
 */
export function createRouteIndex(routes: readonly Route[]): RouteIndex {
  const entries = [...groupBy(routes, (route) => route.path)].map(([path, group]) => compilePath(path, group));
  const exact = new Map(entries.filter((e) => e.segments.every((s) => !/^[:*]/.test(s))).map((e) => [`/${e.segments.join('/')}`, e]));
  const unknown = new Map<string, Resolution>();
  // A path matching no route of a root gets the error shape of the root's first route (`/v1`: OpenAI's).
  for (const [root, group] of groupBy(routes, (route) => route.path.split('/')[1]!)) {
    unknown.set(root, { errors: group[0]!.errors, roles: commonRoles(group), params: NO_PARAMS });
  }

  const find = (path: string): { entry: PathEntry; params: Readonly<Record<string, string>> } | undefined => {
    const entry = exact.get(path);
    if (entry) return { entry, params: NO_PARAMS };
    const segments = segmentsOf(path);
    if (!segments) return undefined;
    for (const candidate of entries) {
      const params = matchSegments(candidate.segments, segments);
      if (params) return { entry: candidate, params };
    }
    return undefined;
  };

  return {
    roots: [...unknown.keys()],
    resolve(method, path) {
      if (!path.startsWith('/')) return undefined;
      const end = path.indexOf('/', 1);
      const notFound = unknown.get(path.slice(1, end === -1 ? undefined : end));
      if (!notFound) return undefined;
      const found = find(path);
      if (!found) return notFound;
      const route = found.entry.methods.get(method) ?? (method === 'HEAD' ? found.entry.methods.get('GET') : undefined);
      if (!route) return found.entry.notAllowed;
      return found.params === NO_PARAMS ? route : { ...route, params: found.params };
    },
  };
}
