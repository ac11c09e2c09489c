/** Starts a router behind a real `http` server on 127.0.0.1 for integration tests. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '../../src/adapters/node.js';
import { createRouter, type Router, type RouterOptions } from '../../src/router.js';

export const ADMIN_KEY = 'test-admin-key-0123456789';
export const CLIENT_KEY = 'test-client-key-0123456789';
export const VIEWER_KEY = 'test-viewer-key-0123456789';
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

export async function startLlmlb(options: RouterOptions = {}): Promise<LlmlbServer> {
  const router = createRouter({
    secret: SECRET,
    auth: {
      keys: [
        { key: ADMIN_KEY, role: 'admin' },
        { key: CLIENT_KEY, role: 'client' },
        { key: VIEWER_KEY, role: 'viewer' },
      ],
    },
    ...options,
  });
  await router.start();
  const server = createServer(toNodeHandler(router));
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
