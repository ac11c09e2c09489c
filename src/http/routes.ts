/**
 * The route table: every route llmlb serves, with the roles that may call it and its error
 * shape. Authorisation is a lookup in this table; a new route, or a route for a new role, is a
 * new row. docs/api.md lists the same table.
 */
import { endpointHandlers as endpoints, fleetHandlers as fleet } from './admin-routes.js';
import { aliasHandlers as aliases } from './alias-routes.js';
import type { Role } from './auth.js';
import { keyHandlers as keys } from './key-routes.js';
import { nodeHandlers as nodes } from './node-routes.js';
import { dashboardHandlers as dashboard, observeHandlers as observe } from './observe-routes.js';
import { inferenceHandlers as inference } from './proxy-routes.js';
import { type Route, type RouteIndex, type RouteRole, createRouteIndex } from './route.js';

/** Reading the admin API. */
const READERS: readonly Role[] = ['admin', 'viewer'];
/** Changing anything. */
const ADMINS: readonly Role[] = ['admin'];
/** Inference and the model list. */
const CLIENTS: readonly Role[] = ['admin', 'client'];
/** Every key. */
const ANY_KEY: readonly Role[] = ['admin', 'viewer', 'client'];
/** Registering a node: its registration token (a `node` key), or an admin. */
const NODES: readonly Role[] = ['admin', 'node'];
/** Anyone, without a key. */
const PUBLIC: readonly RouteRole[] = ['public'];

/** Every route, in matching order. */
export const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/v0/endpoints', roles: READERS, errors: 'admin', handle: endpoints.list },
  { method: 'POST', path: '/v0/endpoints', roles: ADMINS, errors: 'admin', handle: endpoints.create },
  { method: 'GET', path: '/v0/endpoints/:id', roles: READERS, errors: 'admin', handle: endpoints.get },
  { method: 'PUT', path: '/v0/endpoints/:id', roles: ADMINS, errors: 'admin', handle: endpoints.update },
  { method: 'DELETE', path: '/v0/endpoints/:id', roles: ADMINS, errors: 'admin', handle: endpoints.delete },
  { method: 'POST', path: '/v0/endpoints/:id/test', roles: ADMINS, errors: 'admin', handle: endpoints.test },
  { method: 'POST', path: '/v0/endpoints/:id/sync', roles: ADMINS, errors: 'admin', handle: endpoints.sync },
  { method: 'GET', path: '/v0/endpoints/:id/health-checks', roles: READERS, errors: 'admin', handle: endpoints.healthChecks },
  { method: 'GET', path: '/v0/endpoints/:id/stats', roles: READERS, errors: 'admin', handle: endpoints.stats },
  { method: 'POST', path: '/v0/endpoints/:id/approve', roles: ADMINS, errors: 'admin', handle: nodes.approve },
  { method: 'POST', path: '/v0/endpoints/:id/reject', roles: ADMINS, errors: 'admin', handle: nodes.reject },
  { method: 'GET', path: '/v0/nodes', roles: READERS, errors: 'admin', handle: nodes.list },
  { method: 'POST', path: '/v0/nodes', roles: NODES, errors: 'admin', handle: nodes.register },
  // Public: the heartbeat's credential is its X-Node-Token, which the handler checks.
  { method: 'POST', path: '/v0/nodes/heartbeat', roles: PUBLIC, errors: 'admin', handle: nodes.heartbeat },
  { method: 'GET', path: '/v0/nodes/:id', roles: READERS, errors: 'admin', handle: nodes.get },
  { method: 'GET', path: '/v0/models', roles: READERS, errors: 'admin', handle: fleet.models },
  { method: 'GET', path: '/v0/models/*model', roles: READERS, errors: 'admin', handle: fleet.model },
  { method: 'GET', path: '/v0/aliases', roles: READERS, errors: 'admin', handle: aliases.list },
  { method: 'POST', path: '/v0/aliases', roles: ADMINS, errors: 'admin', handle: aliases.create },
  { method: 'GET', path: '/v0/aliases/*name', roles: READERS, errors: 'admin', handle: aliases.get },
  { method: 'PUT', path: '/v0/aliases/*name', roles: ADMINS, errors: 'admin', handle: aliases.update },
  { method: 'DELETE', path: '/v0/aliases/*name', roles: ADMINS, errors: 'admin', handle: aliases.delete },
  { method: 'GET', path: '/v0/stats', roles: READERS, errors: 'admin', handle: fleet.stats },
  { method: 'GET', path: '/v0/events', roles: READERS, errors: 'admin', handle: observe.events },
  { method: 'GET', path: '/v0/me', roles: ANY_KEY, errors: 'admin', handle: fleet.me },
  { method: 'GET', path: '/v0/keys', roles: ADMINS, errors: 'admin', handle: keys.list },
  { method: 'POST', path: '/v0/keys', roles: ADMINS, errors: 'admin', handle: keys.create },
  { method: 'GET', path: '/v0/keys/:id', roles: ADMINS, errors: 'admin', handle: keys.get },
  { method: 'PUT', path: '/v0/keys/:id', roles: ADMINS, errors: 'admin', handle: keys.update },
  { method: 'DELETE', path: '/v0/keys/:id', roles: ADMINS, errors: 'admin', handle: keys.revoke },
  { method: 'GET', path: '/v0/keys/:id/usage', roles: ADMINS, errors: 'admin', handle: keys.usage },
  { method: 'POST', path: '/v1/chat/completions', roles: CLIENTS, errors: 'openai', handle: inference.chat },
  { method: 'POST', path: '/v1/completions', roles: CLIENTS, errors: 'openai', handle: inference.completions },
  { method: 'POST', path: '/v1/embeddings', roles: CLIENTS, errors: 'openai', handle: inference.embeddings },
  { method: 'POST', path: '/v1/responses', roles: CLIENTS, errors: 'openai', handle: inference.responses },
  { method: 'POST', path: '/v1/rerank', roles: CLIENTS, errors: 'openai', handle: inference.rerank },
  { method: 'POST', path: '/v1/score', roles: CLIENTS, errors: 'openai', handle: inference.score },
  { method: 'POST', path: '/v1/audio/transcriptions', roles: CLIENTS, errors: 'openai', handle: inference.transcriptions },
  { method: 'POST', path: '/v1/audio/translations', roles: CLIENTS, errors: 'openai', handle: inference.translations },
  { method: 'POST', path: '/v1/audio/speech', roles: CLIENTS, errors: 'openai', handle: inference.speech },
  { method: 'POST', path: '/v1/images/generations', roles: CLIENTS, errors: 'openai', handle: inference.images },
  { method: 'POST', path: '/v1/messages', roles: CLIENTS, errors: 'anthropic', xApiKey: true, handle: inference.messages },
  { method: 'POST', path: '/v1/messages/count_tokens', roles: CLIENTS, errors: 'anthropic', xApiKey: true, handle: inference.countTokens },
  { method: 'GET', path: '/v1/models', roles: CLIENTS, errors: 'openai', handle: inference.listModels },
  { method: 'GET', path: '/v1/models/*model', roles: CLIENTS, errors: 'openai', handle: inference.getModel },
  // vLLM, llama.cpp and Jina clients also call the reranker without the /v1 prefix.
  { method: 'POST', path: '/rerank', roles: CLIENTS, errors: 'openai', handle: inference.rerank },
];

/** Which of the optional routes a handler serves (see `HandlerOptions`). */
export interface RouteSelection {
  /** `/v0` and `/v1`. */
  api: boolean;
  /** `/healthz` and `/readyz`. */
  health: boolean;
  /** Whether `/readyz` also needs an online, enabled endpoint. */
  readyRequiresEndpoint: boolean;
  /** Path of the Prometheus exposition, or null for none. */
  metricsPath: string | null;
  /** Whether scraping needs no key (otherwise admin and viewer keys may scrape). */
  metricsPublic: boolean;
  /** The web dashboard under `/dashboard`. */
  dashboard: boolean;
}

/** The optional routes of a selection, in matching order. */
function optionalRoutes(selection: RouteSelection): Route[] {
  const routes: Route[] = [];
  if (selection.health) {
    routes.push({ method: 'GET', path: '/healthz', roles: PUBLIC, errors: 'admin', handle: observe.healthz });
    routes.push({ method: 'GET', path: '/readyz', roles: PUBLIC, errors: 'admin', handle: observe.readyz(selection.readyRequiresEndpoint) });
  }
  if (selection.metricsPath !== null) {
    const roles = selection.metricsPublic ? PUBLIC : READERS;
    routes.push({ method: 'GET', path: selection.metricsPath, roles, errors: 'admin', handle: observe.metrics });
  }
  if (selection.dashboard) {
    routes.push({ method: 'GET', path: '/dashboard', roles: PUBLIC, errors: 'admin', handle: dashboard.redirect });
    routes.push({ method: 'GET', path: '/dashboard/*file', roles: PUBLIC, errors: 'admin', handle: dashboard.file });
  }
  return routes;
}

const indexes = new Map<string, RouteIndex>();

/**
 * The compiled route table of a selection: {@link ROUTES} (unless `api` is off) and the optional
 * routes. Compiled once per distinct selection.
 */
export function routeIndexFor(selection: RouteSelection): RouteIndex {
  const key = JSON.stringify(selection);
  let index = indexes.get(key);
  if (!index) indexes.set(key, (index = createRouteIndex([...(selection.api ? ROUTES : []), ...optionalRoutes(selection)])));
  return index;
}

/** The default selection: the API only. */
export const API_ONLY: Readonly<RouteSelection> = Object.freeze({ api: true, health: false, readyRequiresEndpoint: false, metricsPath: null, metricsPublic: false, dashboard: false });

/** The compiled {@link ROUTES} (the API only). */
export const routeIndex = routeIndexFor(API_ONLY);
