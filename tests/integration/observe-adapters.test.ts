/**
 * The operator routes under new roots (`/healthz`, `/readyz`, `/metrics`, `/dashboard`) through
 * the Express middleware and the Fastify plugin, mounted under a prefix: served when asked for,
 * left to the host app when not.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { llmlb } from '../../src/adapters/express.js';
import { llmlbPlugin } from '../../src/adapters/fastify.js';
import { createRouter, type Router } from '../../src/router.js';

const KEY = 'adapter-admin-key-0123456789';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function router(): Promise<Router> {
  const r = createRouter({ auth: { keys: [{ key: KEY, role: 'admin' }] } });
  await r.start();
  cleanups.push(() => r.stop());
  return r;
}

const options = { health: true, metrics: true, dashboard: true } as const;

async function check(base: string): Promise<void> {
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  expect((await fetch(`${base}/readyz`)).status).toBe(200);
  expect((await fetch(`${base}/metrics`)).status).toBe(401);
  const metrics = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${KEY}` } });
  expect(await metrics.text()).toContain('# TYPE llmlb_requests_total counter');
  const redirect = await fetch(`${base}/dashboard`, { redirect: 'manual' });
  expect(redirect.status).toBe(308);
  // Relative to the request, the location lands under the mount prefix.
  expect(new URL(redirect.headers.get('location')!, `${base}/dashboard`).pathname).toBe(`${new URL(base).pathname}/dashboard/`);
  const page = await fetch(`${base}/dashboard/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<script type="module" src="app.js">');
  expect((await fetch(`${base}/dashboard/app.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
}

describe('operator routes through the adapters', () => {
  it('Express, mounted under /llm', async () => {
    const app = express();
    app.use('/llm', llmlb(await router(), options));
    app.get('/llm/other', (_req, res) => void res.send('host'));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/llm`;
    await check(base);
    expect(await (await fetch(`${base}/other`)).text()).toBe('host');
  });

  it('Fastify, registered with prefix /llm; without the options the host keeps the paths', async () => {
    const app = Fastify();
    await app.register(llmlbPlugin, { router: await router(), prefix: '/llm', ...options });
    app.get('/healthz', async () => 'host health');
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => app.close());
    const port = (app.server.address() as AddressInfo).port;
    await check(`http://127.0.0.1:${port}/llm`);
    expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).toBe('host health');
  });
});
