/** Starts a router behind a real `http` server on 127.0.0.1 for integration tests. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type HandlerOptions, toNodeHandler } from '../../src/adapters/node.js';
import { afterEach, expect } from 'vitest';
import { createRouter, type Router, type RouterOptions } from '../../src/router.js';
import { type FakeUpstream, type FakeUpstreamOptions, startFakeUpstream } from './fake-upstream.js';

export const ADMIN_KEY = 'test-admin-key-0123456789';
export const CLIENT_KEY = 'test-client-key-0123456789';
export const VIEWER_KEY = 'test-viewer-key-0123456789';
/** A registration token of self-registering nodes (role `node`). */
export const NODE_KEY = 'test-node-key-0123456789';
export const SECRET = 'test-secret-0123456789abcdef';

export interface LlmlbServer {
  router: Router;
  server: Server;
  url: string;
  /** Admin API call with the admin key; JSON in, JSON out. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Inference call with the client key. */
  infer(path: string, body: unknown, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startLlmlb(options: RouterOptions = {}, handler: HandlerOptions = {}): Promise<LlmlbServer> {
  const router = createRouter({
    secret: SECRET,
    auth: {
      keys: [
        { key: ADMIN_KEY, role: 'admin' },
        { key: CLIENT_KEY, role: 'client' },
        { key: VIEWER_KEY, role: 'viewer' },
        { key: NODE_KEY, role: 'node', name: 'registration token' },
      ],
    },
    ...options,
  });
  await router.start();
  const server = createServer(toNodeHandler(router, handler));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    router,
    server,
    url,
    async admin(method, path, body) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text === '' ? null : JSON.parse(text) };
    },
    infer(path, body, init = {}) {
      return fetch(`${url}${path}`, {
        method: 'POST',
        ...init,
        headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await router.stop();
    },
  };
}

/** Polls `condition` every few ms until it holds (or throws after `timeoutMs`). */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Fake upstreams and routers for one test file, each stopped after the test that made it. */
export interface Fixtures {
  /** A fake upstream on 127.0.0.1. */
  upstream(options?: FakeUpstreamOptions): Promise<FakeUpstream>;
  /** A router behind node:http (checks time out after 2 s unless `options` say otherwise). */
  llmlb(options?: RouterOptions, handler?: HandlerOptions): Promise<LlmlbServer>;
  /** Registers an upstream through the admin API and waits until its first check finished; returns its id. */
  register(s: LlmlbServer, u: FakeUpstream, extra?: Record<string, unknown>): Promise<string>;
}

/**
 * Test-file fixtures with cleanup after each test (call at the top level of a test file).
 *
 * @example
 * const { upstream, llmlb, register } = useFixtures();
 */
export function useFixtures(): Fixtures {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    async upstream(options = {}) {
      const u = await startFakeUpstream(options);
      cleanups.push(() => u.stop());
      return u;
    },
    async llmlb(options = {}, handler = {}) {
      const s = await startLlmlb({ checker: { timeoutMs: 2000 }, ...options }, handler);
      cleanups.push(() => s.close());
      return s;
    },
    async register(s, u, extra = {}) {
      const { status, body } = await s.admin('POST', '/v0/endpoints', { name: u.name, base_url: u.url(), ...extra });
      expect(status).toBe(201);
      await s.router.checker.idle();
      return body.id as string;
    },
  };
}
