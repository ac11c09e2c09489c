/**
 * The standalone server's observability, in-process on 127.0.0.1: the request log (one pino line
 * per proxied request and per admin write, never a key; silent at warn), redaction, `/healthz`,
 * `/readyz`, metrics (key or not, own port) and the dashboard, and the flags that set them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type ServeConfig, CliUsageError, parseCliConfig } from '../../src/cli/config.js';
import { createCliLogger } from '../../src/cli/log.js';
import { type ServeHandle, runServe } from '../../src/cli/serve.js';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.js';
import { parseExposition } from '../helpers/prom-text.js';

const ADMIN_KEY = 'unit-admin-key-0123456789';
const CLIENT_KEY = 'unit-client-key-0123456789';
const KEYS = { LLMLB_API_KEYS: `${ADMIN_KEY}:admin,${CLIENT_KEY}:client` };

function config(argv: string[], env: Record<string, string> = KEYS): ServeConfig {
  const parsed = parseCliConfig(['serve', '--port', '0', '--memory', ...argv], env);
  if (parsed.command !== 'serve') throw new Error('expected serve');
  return parsed.config;
}

const handles: ServeHandle[] = [];
const upstreams: FakeUpstream[] = [];
afterEach(async () => {
  await Promise.allSettled(handles.splice(0).map((h) => h.stop()));
  await Promise.allSettled(upstreams.splice(0).map((u) => u.stop()));
});

async function start(cfg: ServeConfig) {
  const lines: string[] = [];
  const handle = await runServe(cfg, { stdout: { write: (chunk: string) => lines.push(chunk) }, stderr: { write: () => true } });
  handles.push(handle);
  const logged = () => lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { handle, logged, lines };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

async function registerAndInfer(handle: ServeHandle): Promise<string> {
  const u = await startFakeUpstream({ name: 'gpu-1' });
  upstreams.push(u);
  const created = await fetch(`${handle.url}/v0/endpoints`, { method: 'POST', headers: bearer(ADMIN_KEY), body: JSON.stringify({ name: 'gpu-1', base_url: u.url() }) });
  const { id } = (await created.json()) as { id: string };
  await handle.router.checker.idle();
  const res = await fetch(`${handle.url}/v1/chat/completions`, { method: 'POST', headers: bearer(CLIENT_KEY), body: JSON.stringify({ model: 'llama3.1:8b', messages: [] }) });
  expect(res.status).toBe(200);
  await res.text();
  return id;
}

describe('the request log', () => {
  it('writes one line per proxied request and per admin write, with the key name and never the key', async () => {
    const { handle, logged, lines } = await start(config([]));
    const id = await registerAndInfer(handle);
    const request = logged().find((l) => l.msg === 'request');
    expect(request).toMatchObject({
      level: 30,
      route: 'chat',
      model: 'llama3.1:8b',
      endpoint: 'gpu-1',
      endpoint_id: id,
      status: 200,
      attempts: 1,
      streamed: false,
      client: 'LLMLB_API_KEYS entry 2',
      prompt_tokens: 1,
      completion_tokens: 3,
    });
    expect(request!.ttfb_ms).toEqual(expect.any(Number));
    expect(request!.duration_ms).toEqual(expect.any(Number));
    expect(logged().filter((l) => l.msg === 'admin write')).toEqual([
      expect.objectContaining({ action: 'create', endpoint_id: id, endpoint: 'gpu-1', client: 'LLMLB_API_KEYS entry 1' }),
    ]);
    await fetch(`${handle.url}/v0/endpoints/${id}`, { method: 'DELETE', headers: bearer(ADMIN_KEY) });
    expect(logged().filter((l) => l.msg === 'admin write').at(-1)).toMatchObject({ action: 'delete', endpoint: 'gpu-1' });
    expect(lines.join('')).not.toContain(ADMIN_KEY);
    expect(lines.join('')).not.toContain(CLIENT_KEY);
  });

  it('is silent at --log-level warn, and then costs no request event', async () => {
    const { handle, logged } = await start(config(['--log-level', 'warn', '--metrics-path', 'off']));
    await registerAndInfer(handle);
    expect(logged().filter((l) => l.msg === 'request' || l.msg === 'admin write')).toEqual([]);
    expect(handle.router.listenerCount('request')).toBe(0);
  });

  it('redacts credentials with pino', () => {
    const lines: string[] = [];
    const { logger, flush } = createCliLogger('debug', { write: (line: string) => lines.push(line) });
    logger.info({ api_key: 'sk-1', headers: { authorization: 'Bearer x', fine: 1 } }, 'hello');
    logger.debug('debug line');
    flush();
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, msg: 'hello', api_key: '[Redacted]', headers: { authorization: '[Redacted]', fine: 1 } });
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 20, msg: 'debug line' });
  });
});

describe('health, metrics and dashboard of the standalone server', () => {
  it('serves /healthz, /readyz, /metrics with a key and /dashboard/ by default', async () => {
    const { handle } = await start(config([]));
    expect((await fetch(`${handle.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${handle.url}/readyz`)).json()).toMatchObject({ ready: true, storage: true });
    expect((await fetch(`${handle.url}/metrics`)).status).toBe(401);
    await registerAndInfer(handle);
    const scraped = await fetch(`${handle.url}/metrics`, { headers: bearer(ADMIN_KEY) });
    expect(parseExposition(await scraped.text()).sum('llmlb_requests_total', { status: '200' })).toBe(1);
    const page = await fetch(`${handle.url}/dashboard/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const redirect = await fetch(`${handle.url}/dashboard`, { redirect: 'manual' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('dashboard/');
  });

  it('serves metrics on their own port, public when asked; no dashboard with --no-dashboard', async () => {
    const { handle } = await start(config(['--metrics-port', '0', '--metrics-public', '--no-dashboard', '--ready-requires-endpoint']));
    expect(handle.metricsPort).toEqual(expect.any(Number));
    const metricsUrl = `http://127.0.0.1:${handle.metricsPort}`;
    expect((await fetch(`${metricsUrl}/metrics`)).status).toBe(200);
    expect((await fetch(`${metricsUrl}/readyz`)).status).toBe(503);
    expect((await fetch(`${metricsUrl}/v0/endpoints`, { headers: bearer(ADMIN_KEY) })).status).toBe(404);
    expect((await fetch(`${handle.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${handle.url}/dashboard/`)).status).toBe(404);
    await registerAndInfer(handle);
    expect((await fetch(`${handle.url}/readyz`)).status).toBe(200);
  });

  it('parses the flags and their environment variables', () => {
    expect(config([], { LLMLB_METRICS_PATH: '/prom', LLMLB_METRICS_PUBLIC: 'true', LLMLB_DASHBOARD: 'off' }).observe).toEqual({
      metrics: { path: '/prom', port: null, public: true },
      dashboard: false,
      readyRequiresEndpoint: false,
    });
    expect(config(['--metrics-path', 'off']).observe.metrics).toBeNull();
    expect(config(['--metrics-port', '9100']).observe.metrics).toEqual({ path: '/metrics', port: 9100, public: false });
    expect(() => config(['--metrics-path', '/v0/metrics'])).toThrow(CliUsageError);
    expect(() => config(['--metrics-path', '/rerank/metrics'])).toThrow(CliUsageError);
    expect(() => config([], { LLMLB_METRICS_PUBLIC: 'maybe' })).toThrow(/LLMLB_METRICS_PUBLIC "maybe": must be true or false/);
  });
});
