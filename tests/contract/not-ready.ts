/**
 * The not-ready contract: a router that was never started, is starting, or was stopped answers
 * every `/v0` and `/v1` route with `503 not_ready`, in the route's error shape — after
 * authentication and authorisation, so a caller without a key learns nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Router } from '../../src/router.js';
import type { StorageAdapter } from '../../src/storage/types.js';
import { memoryStorage } from '../../src/storage/memory/index.js';
import { CONFIGURED_SECRETS, type CallOptions, contractRouter, expectError, expectErrorShape, expectNoLeak, send } from './client.js';
import type { ContractServer, ServerFactory } from './servers.js';

const SOME_ID = '3f0e4c1a-0000-4000-8000-000000000000';

/** Every route, called by a role that may call it, with a valid body. */
const ROUTES: ReadonlyArray<[string, string, CallOptions]> = [
  ['GET', '/v0/endpoints', { as: 'admin' }],
  ['HEAD', '/v0/endpoints', { as: 'viewer' }],
  ['POST', '/v0/endpoints', { as: 'admin', json: { name: 'x', base_url: 'http://127.0.0.1:9/x' } }],
  ['GET', `/v0/endpoints/${SOME_ID}`, { as: 'viewer' }],
  ['PUT', `/v0/endpoints/${SOME_ID}`, { as: 'admin', json: { notes: 'n' } }],
  ['DELETE', `/v0/endpoints/${SOME_ID}`, { as: 'admin' }],
  ['POST', `/v0/endpoints/${SOME_ID}/test`, { as: 'admin' }],
  ['POST', `/v0/endpoints/${SOME_ID}/sync`, { as: 'admin' }],
  ['POST', '/v1/chat/completions', { as: 'client', json: { model: 'm', messages: [] } }],
  ['POST', '/v1/completions', { as: 'client', json: { model: 'm', prompt: 'hi' } }],
  ['POST', '/v1/embeddings', { as: 'admin', json: { model: 'm', input: 'hi' } }],
  ['GET', '/v1/models', { as: 'client' }],
  ['GET', '/v1/models/org/m', { as: 'client' }],
];

/**
 * Registers the not-ready contract for one adapter.
 *
 * @example
 * runNotReadyContract('node http', nodeServer);
 */
export function runNotReadyContract(name: string, makeServer: ServerFactory): void {
  describe(`not ready → 503 — ${name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function serve(router: Router): Promise<ContractServer> {
      const server = await makeServer(router);
      cleanups.push(() => router.stop(), () => server.close());
      return server;
    }

    /** Calls every route and expects one 503 not_ready whose message says `why`. */
    async function expectNotReady(server: ContractServer, why: RegExp): Promise<void> {
      for (const [method, path, options] of ROUTES) {
        const res = await send(server.baseUrl, method, path, options);
        expectNoLeak(res, CONFIGURED_SECRETS);
        expect(res.status, `${method} ${path}`).toBe(503);
        if (method === 'HEAD') continue;
        expectErrorShape(res, path.startsWith('/v1') ? 'openai' : 'admin');
        expect(expectError(res, 503, 'not_ready').message).toMatch(why);
      }
    }

    /** Authentication and roles still come first: no key is a 401, a wrong role a 403. */
    async function expectAuthFirst(server: ContractServer): Promise<void> {
      expectError(await send(server.baseUrl, 'GET', '/v0/endpoints', { as: null }), 401, 'unauthorized');
      expectError(await send(server.baseUrl, 'POST', '/v1/chat/completions', { as: null, json: { model: 'm' } }), 401, 'unauthorized');
      expectError(await send(server.baseUrl, 'GET', '/v1/models', { as: 'viewer' }), 403, 'forbidden');
      expectError(await send(server.baseUrl, 'POST', '/v0/endpoints', { as: 'viewer', json: {} }), 403, 'forbidden');
    }

    it('a router that was never started', async () => {
      const server = await serve(contractRouter());
      await expectNotReady(server, /not been started/);
      await expectAuthFirst(server);
    });

    it('a router that is starting, until it has started', async () => {
      const storage: StorageAdapter = memoryStorage();
      const init = storage.init.bind(storage);
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      storage.init = async () => {
        await released;
        await init();
      };
      const router = contractRouter({ storage });
      const server = await serve(router);
      const starting = router.start();
      expect(router.state).toBe('starting');
      await expectNotReady(server, /starting/);
      release();
      await starting;
      const list = await send(server.baseUrl, 'GET', '/v0/endpoints');
      expect(list.status).toBe(200);
      expect(list.body).toEqual({ endpoints: [], total: 0 });
    });

    it('a router that was stopped', async () => {
      const router = contractRouter();
      await router.start();
      await router.endpoints.create({ name: 'x', base_url: 'http://127.0.0.1:9/x' });
      const server = await serve(router);
      expect((await send(server.baseUrl, 'GET', '/v0/endpoints')).body.total).toBe(1);
      await router.stop();
      await expectNotReady(server, /stopped/);
      await expectAuthFirst(server);
    });
  });
}
