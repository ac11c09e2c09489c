/**
 * `/healthz`, `/readyz` and `/metrics` on a real server: health routes without a key, readiness
 * with and without an online endpoint, and a scrape after real traffic (stream, non-stream,
 * failover) checked value by value with a strict exposition parser.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { toNodeHandler } from '../../src/adapters/node.js';
import { createRouter } from '../../src/router.js';
import { roundRobinSelector } from '../../src/select/index.js';
import { ADMIN_KEY, CLIENT_KEY, VIEWER_KEY, useFixtures } from '../helpers/llmlb-server.js';
import { parseExposition } from '../helpers/prom-text.js';

const { upstream, llmlb, register } = useFixtures();
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('health routes', () => {
  it('answers /healthz and /readyz without a key, and only when asked for', async () => {
    const s = await llmlb({}, { health: true });
    const health = await fetch(`${s.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, started: true, storage: true, online_endpoints: 0 });
    const plain = await llmlb();
    expect((await fetch(`${plain.url}/healthz`)).status).toBe(404);
  });

  it('is not ready before start and after stop; alive all the while', async () => {
    const router = createRouter({ auth: false });
    const server = createServer(toNodeHandler(router, { health: true }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${url}/readyz`)).status).toBe(503);
      await router.start();
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      await router.stop();
      const stopped = await fetch(`${url}/readyz`);
      expect(stopped.status).toBe(503);
      expect(await stopped.json()).toMatchObject({ ready: false, started: false });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('with requireOnlineEndpoint, is ready only while an enabled endpoint is online', async () => {
    const s = await llmlb({}, { health: { requireOnlineEndpoint: true } });
    expect((await fetch(`${s.url}/readyz`)).status).toBe(503);
    const u = await upstream();
    const id = await register(s, u);
    expect(await (await fetch(`${s.url}/readyz`)).json()).toMatchObject({ ready: true, online_endpoints: 1 });
    await s.admin('PUT', `/v0/endpoints/${id}`, { admin_state: 'disabled' });
    expect((await fetch(`${s.url}/readyz`)).status).toBe(503);
  });
});

describe('metrics', () => {
  it('needs an admin or viewer key unless public; can live at another path', async () => {
    const s = await llmlb({}, { metrics: true });
    expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${s.url}/metrics`, { headers: bearer(CLIENT_KEY) })).status).toBe(403);
    const scraped = await fetch(`${s.url}/metrics`, { headers: bearer(VIEWER_KEY) });
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const open = await llmlb({}, { metrics: { path: '/internal/prom', public: true } });
    expect((await fetch(`${open.url}/internal/prom`)).status).toBe(200);
    expect((await fetch(`${open.url}/metrics`)).status).toBe(404);
  });

  it('counts real traffic: stream and non-stream, tokens, failover, endpoint gauges and checks', async () => {
    // Round robin, so that the failing endpoint is chosen within two requests.
    const s = await llmlb({ selector: roundRobinSelector() }, { metrics: true });
    const good = await upstream({ name: 'good' });
    const bad = await upstream({ name: 'bad' });
    await register(s, good);
    await register(s, bad);
    const chat = { model: 'llama3.1:8b', messages: [{ role: 'user', content: 'hi' }] };
    for (let i = 0; i < 3; i++) expect((await s.infer('/v1/chat/completions', chat)).status).toBe(200);
    const stream = await s.infer('/v1/chat/completions', { ...chat, stream: true, stream_options: { include_usage: true } });
    expect(await stream.text()).toContain('[DONE]');
    // Failover: the bad endpoint answers 503, the good one takes over.
    bad.inferenceStatus = 503;
    const before = bad.requestsTo('/v1/chat/completions').length;
    let failedOver = 0;
    while (bad.requestsTo('/v1/chat/completions').length === before) {
      expect((await s.infer('/v1/chat/completions', chat)).status).toBe(200);
      failedOver++;
    }

    const text = await (await fetch(`${s.url}/metrics`, { headers: bearer(ADMIN_KEY) })).text();
    const m = parseExposition(text);
    const total = 4 + failedOver;
    expect(m.sum('llmlb_requests_total', { route: 'chat', model: 'llama3.1:8b', status: '200' })).toBe(total);
    expect(m.sum('llmlb_request_duration_seconds_count')).toBe(total);
    expect(m.sum('llmlb_request_ttfb_seconds_count')).toBe(total);
    expect(m.sum('llmlb_failovers_total', { route: 'chat' })).toBe(1);
    expect(m.sum('llmlb_retries_total', { route: 'chat' })).toBe(1);
    // Non-stream answers report 1 + 3 tokens each, the stream 2 + 5 in its last event.
    expect(m.sum('llmlb_tokens_total', { kind: 'prompt' })).toBe((total - 1) * 1 + 2);
    expect(m.sum('llmlb_tokens_total', { kind: 'completion' })).toBe((total - 1) * 3 + 5);
    expect(m.sum('llmlb_endpoint_status', { endpoint: 'good', status: 'online' })).toBe(1);
    expect(m.sum('llmlb_endpoint_status', { endpoint: 'good', status: 'offline' })).toBe(0);
    expect(m.sum('llmlb_endpoint_admin_state', { endpoint: 'bad', admin_state: 'enabled' })).toBe(1);
    expect(m.sum('llmlb_endpoint_consecutive_failures', { endpoint: 'good' })).toBe(0);
    expect(m.sum('llmlb_endpoint_in_flight')).toBe(0);
    expect(m.sum('llmlb_health_check_seconds_count', { endpoint: 'good', result: 'success' })).toBeGreaterThanOrEqual(1);
    expect(m.types.get('llmlb_request_ttfb_seconds')).toBe('histogram');
  });

  it('counts a request that failed on every endpoint under its error status', async () => {
    const s = await llmlb({}, { metrics: true });
    const u = await upstream();
    await register(s, u);
    await u.stop();
    const res = await s.infer('/v1/chat/completions', { model: 'llama3.1:8b', messages: [] });
    expect(res.status).toBe(502);
    const m = parseExposition(await s.router.metrics());
    expect(m.sum('llmlb_requests_total', { status: '502' })).toBe(1);
    expect(m.sum('llmlb_request_ttfb_seconds_count')).toBe(0);
  });

  it('uses the registry and prefix a host passes', async () => {
    const registry = new Registry();
    const s = await llmlb({ metrics: { registry, prefix: 'gw_' } });
    const u = await upstream();
    await register(s, u);
    expect((await s.infer('/v1/completions', { model: 'llama3.1:8b', prompt: 'x' })).status).toBe(200);
    const m = parseExposition(await registry.metrics());
    expect(m.sum('gw_requests_total', { route: 'completions', status: '200' })).toBe(1);
    expect(await s.router.metrics()).toBe(await registry.metrics());
    expect(m.types.has('gw_endpoint_status')).toBe(true);
  });
});
