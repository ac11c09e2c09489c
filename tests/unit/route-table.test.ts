/** The route table: resolution, roles per route, 404/405 answers, and new rows. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Role } from '../../src/http/auth.js';
import { type Route, type RouteHandler, createRouteIndex } from '../../src/http/route.js';
import { API_ONLY, ROUTES, routeIndex, routeIndexFor } from '../../src/http/routes.js';
import { handlerRouteIndex } from '../../src/http/handler.js';

const handler = (): RouteHandler => async () => undefined;
const rolesOf = (method: string, path: string) => [...(routeIndex.resolve(method, path)?.roles ?? [])].sort();
const routeOf = (method: string, path: string) => ROUTES.find((r) => r.method === method && r.path === path)!;

describe('the route table', () => {
  it('gives admin every route, viewer the /v0 reads (keys excepted), client the /v1 routes and /rerank, node its registration', () => {
    for (const route of ROUTES) {
      const forClients = route.path.startsWith('/v1/') || route.path === '/rerank';
      const expected: (Role | 'public')[] = forClients
        ? ['admin', 'client']
        : route.path === '/v0/nodes/heartbeat'
          ? ['public']
          : route.path === '/v0/nodes' && route.method === 'POST'
            ? ['admin', 'node']
            : route.path === '/v0/me'
          ? ['admin', 'client', 'viewer']
          : route.method === 'GET' && !route.path.startsWith('/v0/keys')
          ? ['admin', 'viewer']
          : ['admin'];
      expect([...route.roles].sort(), `${route.method} ${route.path}`).toEqual(expected);
      const anthropic = route.path.startsWith('/v1/messages');
      expect(route.errors).toBe(anthropic ? 'anthropic' : forClients ? 'openai' : 'admin');
      // Anthropic clients send their key in x-api-key: only those routes take it.
      expect(route.xApiKey === true, `${route.method} ${route.path}`).toBe(anthropic);
    }
  });

  it('serves the roots v0, v1 and rerank', () => {
    expect(routeIndex.roots).toEqual(['v0', 'v1', 'rerank']);
  });

  it('answers the unknown paths of a root in its first route’s shape, a path’s other methods in the path’s', () => {
    expect(routeIndex.resolve('POST', '/v1/nowhere')?.errors).toBe('openai');
    expect(routeIndex.resolve('POST', '/v1/messages/nowhere')?.errors).toBe('openai');
    expect(routeIndex.resolve('GET', '/v1/messages')).toMatchObject({ errors: 'anthropic', xApiKey: true, allow: ['POST'] });
    expect(routeIndex.resolve('GET', '/v1/chat/completions')?.xApiKey).toBeUndefined();
  });

  it('adds the operator routes a handler selects, public or for readers, under their own roots', () => {
    const all = routeIndexFor({ ...API_ONLY, health: true, metricsPath: '/ops/metrics', dashboard: true });
    expect(all.roots).toEqual(['v0', 'v1', 'rerank', 'healthz', 'readyz', 'ops', 'dashboard']);
    expect([...(all.resolve('GET', '/healthz')?.roles ?? [])]).toEqual(['public']);
    expect([...(all.resolve('GET', '/dashboard/app.js')?.roles ?? [])]).toEqual(['public']);
    expect(all.resolve('GET', '/dashboard/app.js')?.params).toEqual({ file: 'app.js' });
    expect([...(all.resolve('GET', '/ops/metrics')?.roles ?? [])].sort()).toEqual(['admin', 'viewer']);
    const metricsOnly = routeIndexFor({ ...API_ONLY, api: false, health: true, metricsPath: '/metrics', metricsPublic: true });
    expect(metricsOnly.roots).toEqual(['healthz', 'readyz', 'metrics']);
    expect([...(metricsOnly.resolve('GET', '/metrics')?.roles ?? [])]).toEqual(['public']);
    expect(metricsOnly.resolve('GET', '/v0/endpoints')).toBeUndefined();
    expect(routeIndexFor({ ...API_ONLY })).toBe(routeIndex);
  });

  it('refuses a metrics path under an API root', () => {
    for (const path of ['/v0/metrics', '/v1/metrics', '/rerank', '/rerank/metrics']) {
      expect(() => handlerRouteIndex({ metrics: { path } }), path).toThrow(/must not be under another llmlb route/);
    }
    expect(handlerRouteIndex({ metrics: { path: '/reranker-metrics' } }).roots).toContain('reranker-metrics');
  });

    it('is the table docs/api.md lists, with the same roles and error shapes', () => {
    const docs = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    const documented = [...docs.matchAll(/^\| \[?`([A-Z]+ \/(?:v\d|rerank)[^`]*)`\]?(?:\([^)]*\))? \| ([a-z, ]+) \| (admin|OpenAI|Anthropic) \|/gm)].map(
      ([, route, roles, errors]) => `${route} | ${roles} | ${errors!.toLowerCase()}`,
    );
    const table = ROUTES.map((r) => `${r.method} ${r.path.replace(/[:*](\w+)/g, '{$1}')} | ${r.roles.join(', ')} | ${r.errors}`);
    expect(documented).toEqual(table);
  });
});

describe('resolving a request', () => {
  it('finds parameterless routes by path, with HEAD as GET', () => {
    const list = routeIndex.resolve('GET', '/v0/endpoints');
    expect(list?.handle).toBe(routeOf('GET', '/v0/endpoints').handle);
    expect(list?.errors).toBe('admin');
    expect(list?.params).toEqual({});
    expect(routeIndex.resolve('HEAD', '/v0/endpoints')?.handle).toBe(list?.handle);
    expect(routeIndex.resolve('POST', '/v1/chat/completions')?.handle).toBe(routeOf('POST', '/v1/chat/completions').handle);
    expect(rolesOf('POST', '/v0/endpoints')).toEqual(['admin']);
    expect(rolesOf('HEAD', '/v0/endpoints')).toEqual(['admin', 'viewer']);
  });

  it('captures parameters, decoded; a final *name takes the rest of the path', () => {
    expect(routeIndex.resolve('PUT', '/v0/endpoints/abc')?.params).toEqual({ id: 'abc' });
    expect(routeIndex.resolve('POST', '/v0/endpoints/a%20b/test')?.params).toEqual({ id: 'a b' });
    const model = routeIndex.resolve('GET', '/v1/models/Qwen/Qwen2.5-7B-Instruct');
    expect(model?.handle).toBe(routeOf('GET', '/v1/models/*model').handle);
    expect(model?.params).toEqual({ model: 'Qwen/Qwen2.5-7B-Instruct' });
    expect(routeIndex.resolve('GET', '/v1/models/hf.co%2Forg%2Fm')?.params).toEqual({ model: 'hf.co/org/m' });
  });

  it('matches a path with a trailing slash', () => {
    expect(routeIndex.resolve('GET', '/v0/endpoints/')?.handle).toBe(routeOf('GET', '/v0/endpoints').handle);
  });

  it('answers 405 with the path’s methods, to the roles that may call all of them', () => {
    const patch = routeIndex.resolve('PATCH', '/v0/endpoints');
    expect(patch?.handle).toBeUndefined();
    expect(patch?.allow).toEqual(['GET', 'HEAD', 'POST']);
    expect([...(patch?.roles ?? [])]).toEqual(['admin']);
    expect(routeIndex.resolve('GET', '/v0/endpoints/x/sync')?.allow).toEqual(['POST']);
    const models = routeIndex.resolve('DELETE', '/v1/models');
    expect(models).toMatchObject({ errors: 'openai', allow: ['GET', 'HEAD'] });
    expect(rolesOf('DELETE', '/v1/models')).toEqual(['admin', 'client']);
  });

  it('answers 404 under a root, to the roles that may call every route there', () => {
    for (const path of ['/v0', '/v0/', '/v0/nowhere', '/v0/endpoints/a/b/c', '/v0/endpoints/%ZZ']) {
      const target = routeIndex.resolve('GET', path);
      expect(target, path).toMatchObject({ errors: 'admin' });
      expect(target?.handle ?? target?.allow, path).toBeUndefined();
      expect(rolesOf('GET', path)).toEqual(['admin']);
    }
    expect(routeIndex.resolve('GET', '/v1/nope')).toMatchObject({ errors: 'openai' });
    expect(rolesOf('GET', '/v1/nope')).toEqual(['admin', 'client']);
  });

  it('a public route narrows no root or path: the node heartbeat', () => {
    const heartbeat = routeIndex.resolve('POST', '/v0/nodes/heartbeat');
    expect(heartbeat?.handle).toBe(routeOf('POST', '/v0/nodes/heartbeat').handle);
    expect(rolesOf('POST', '/v0/nodes/heartbeat')).toEqual(['public']);
    // A wrong method on the public path is a 405 for anyone; the rest of /v0 keeps its roles.
    expect(routeIndex.resolve('GET', '/v0/nodes/heartbeat')).toMatchObject({ allow: ['POST'] });
    expect(rolesOf('GET', '/v0/nodes/heartbeat')).toEqual(['public']);
    expect(rolesOf('DELETE', '/v0/nodes')).toEqual(['admin']);
    expect(routeIndex.resolve('GET', '/v0/nodes/abc')?.params).toEqual({ id: 'abc' });
  });

  it('leaves paths outside every root alone', () => {
    for (const path of ['/', '', '/health', '/v0x/endpoints', '/v2/models', 'v0/endpoints', '*', '/V0/endpoints']) {
      expect(routeIndex.resolve('GET', path), path).toBeUndefined();
    }
  });
});

describe('new rows', () => {
  const rows: Route[] = [
    { method: 'GET', path: '/v0/endpoints', roles: ['admin', 'viewer'], errors: 'admin', handle: handler() },
    { method: 'GET', path: '/v0/nodes/:id', roles: ['admin', 'viewer'], errors: 'admin', handle: handler() },
    { method: 'PUT', path: '/v0/nodes/:id', roles: ['admin'], errors: 'admin', handle: handler() },
    { method: 'GET', path: '/metrics', roles: ['admin', 'viewer'], errors: 'admin', handle: handler() },
  ];

  it('a new route or root is just a row', () => {
    const index = createRouteIndex(rows);
    expect(index.roots).toEqual(['v0', 'metrics']);
    expect(index.resolve('GET', '/metrics')?.handle).toBe(rows[3]!.handle);
    expect(index.resolve('PUT', '/v0/nodes/n1')).toMatchObject({ handle: rows[2]!.handle, params: { id: 'n1' } });
    expect([...(index.resolve('GET', '/metrics/x')?.roles ?? [])].sort()).toEqual(['admin', 'viewer']);
    expect([...(index.resolve('DELETE', '/v0/nodes/n1')?.roles ?? [])]).toEqual(['admin']);
  });

  it('refuses a route given twice, and a path that mixes error shapes', () => {
    expect(() => createRouteIndex([...rows, { ...rows[0]! }])).toThrow(/GET \/v0\/endpoints is in the route table twice/);
    expect(() => createRouteIndex([...rows, { ...rows[0]!, method: 'POST', errors: 'openai' }])).toThrow(/mix error shapes/);
  });
});
