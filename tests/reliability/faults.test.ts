/**
 * Fault injection: upstreams that misbehave in every way a real one can, on real sockets on
 * 127.0.0.1. For each fault the client gets the documented answer quickly (bounded by the
 * configured timeouts), llmlb keeps serving other requests, sockets return to baseline, and
 * the endpoint's health reacts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runServe } from '../../src/cli/serve.js';
import { parseCliConfig } from '../../src/cli/config.js';
import { type FakeUpstream, json, startFakeUpstream } from '../helpers/fake-upstream.js';
import { type LlmlbServer, startLlmlb, until } from '../helpers/llmlb-server.js';

type Fault = (req: IncomingMessage, res: ServerResponse) => void;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An upstream whose model list is fine but whose inference routes misbehave as `fault` says. */
async function faultyUpstream(model: string, fault: Fault): Promise<string> {
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/v1/models') return json(res, 200, { data: [{ id: model }] });
    req.resume();
    req.on('end', () => fault(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const FAULTS: Record<string, Fault> = {
  hang: () => {},
  headersThenStall: (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
    res.flushHeaders();
  },
  halfBodyThenReset: (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
    res.write('{"id":"chatcmpl-1","choices":[{"mess', () => res.socket?.resetAndDestroy());
  },
  killMidSse: (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: {"choices":[{"delta":{"content":"a"}}]}\n\n', () => res.socket?.destroy());
  },
  status500: (_req, res) => json(res, 500, { error: { message: 'boom' } }),
  status502: (_req, res) => json(res, 502, { error: { message: 'bad gateway' } }),
  status503: (_req, res) => {
    res.setHeader('retry-after', '7');
    json(res, 503, { error: { message: 'overloaded' } });
  },
  status429: (_req, res) => {
    res.setHeader('retry-after', '3');
    json(res, 429, { error: { message: 'slow down' } });
  },
  huge: (_req, res) => {
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(32 * chunk.length) });
    let sent = 0;
    const pump = () => {
      while (sent < 32) {
        sent++;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  },
};

/** A router with one endpoint per fault (model `m-<fault>`) plus one healthy upstream (`good`). */
async function setup(): Promise<{ s: LlmlbServer; good: FakeUpstream }> {
  const s = await startLlmlb({ checker: { timeoutMs: 1000 } });
  cleanups.push(() => s.close());
  const good = await startFakeUpstream({ name: 'good', models: ['good'] });
  cleanups.push(() => good.stop());
  await s.router.endpoints.create({ name: 'good', base_url: good.url() });
  for (const [name, fault] of Object.entries(FAULTS)) {
    await s.router.endpoints.create({ name, base_url: await faultyUpstream(`m-${name}`, fault), inference_timeout_secs: 10 });
  }
  await s.router.checker.idle();
  expect((await s.router.endpoints.list({ status: 'online' })).total).toBe(Object.keys(FAULTS).length + 1);
  return { s, good };
}

const chat = (model: string, stream = false) => ({ model, stream, messages: [{ role: 'user', content: 'hi' }] });

/** Sends a request and reports how it ended: status and body, or a transport failure. */
async function outcome(s: LlmlbServer, model: string, stream = false) {
  const started = performance.now();
  try {
    const res = await s.infer('/v1/chat/completions', chat(model, stream));
    const body = await res.text();
    return { status: res.status, body, headers: res.headers, failed: false, ms: performance.now() - started };
  } catch {
    return { status: 0, body: '', headers: new Headers(), failed: true, ms: performance.now() - started };
  }
}

function activeSockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPWrap').length;
}

describe('fault injection', () => {
  it('answers fast faults with the documented result and keeps serving other requests', async () => {
    const { s } = await setup();
    const half = await outcome(s, 'm-halfBodyThenReset');
    expect(half.failed).toBe(true); // never a silently truncated 200

    const sse = await outcome(s, 'm-killMidSse', true);
    expect(sse.status).toBe(200);
    expect(sse.body).toMatch(/data: \{"error":\{"message":"[^"]+","type":"upstream_error","code":"upstream_error"\}\}\n\n$/);

    const s500 = await outcome(s, 'm-status500');
    expect([s500.status, JSON.parse(s500.body)]).toEqual([500, { error: { message: 'boom' } }]);
    const s502 = await outcome(s, 'm-status502');
    expect(s502.status).toBe(502);
    const s503 = await outcome(s, 'm-status503');
    expect([s503.status, s503.headers.get('retry-after')]).toEqual([503, '7']);
    const s429 = await outcome(s, 'm-status429');
    expect([s429.status, s429.headers.get('retry-after')]).toEqual([429, '3']);

    const huge = await outcome(s, 'm-huge');
    expect(huge.status).toBe(200);
    expect(huge.body.length).toBe(32 * 1024 * 1024);

    for (const result of [half, sse, s500, s502, s503, s429]) expect(result.ms).toBeLessThan(2000);
    expect((await outcome(s, 'good')).status).toBe(200);
  });

  it('returns sockets and memory to baseline after hundreds of faulty requests', async () => {
    const { s } = await setup();
    const fast = ['m-halfBodyThenReset', 'm-status500', 'm-status502', 'm-status503', 'm-status429'];
    // Warm up, then take the baseline.
    for (const model of [...fast, 'good']) await outcome(s, model);
    await until(() => activeSockets() <= 20);
    const sockets = activeSockets();
    const heap = process.memoryUsage().heapUsed;

    const results = [];
    for (let round = 0; round < 60; round++) {
      const batch = await Promise.all([...fast.map((m) => outcome(s, m)), outcome(s, 'm-killMidSse', true), outcome(s, 'good')]);
      results.push(...batch);
    }
    expect(results).toHaveLength(420);
    expect(results.filter((r) => r.body.includes('hello from good'))).toHaveLength(60);
    // Keep-alive pools may hold a few idle connections; nothing else may be left behind.
    await until(() => activeSockets() <= sockets + 8, 10_000);
    expect(process.memoryUsage().heapUsed - heap).toBeLessThan(64 * 1024 * 1024);
  });

  it('bounds hanging and stalling upstreams by the inference timeout', async () => {
    const { s } = await setup();
    const [hang, stall, stallStream, good] = await Promise.all([
      outcome(s, 'm-hang'),
      outcome(s, 'm-headersThenStall'),
      outcome(s, 'm-headersThenStall', true),
      outcome(s, 'good'),
    ]);
    expect(good.status).toBe(200);
    expect(good.ms).toBeLessThan(2000); // served while the others hang
    expect(hang.status).toBe(504);
    expect(JSON.parse(hang.body).error.code).toBe('upstream_timeout');
    expect(stall.failed).toBe(true);
    expect(stallStream.failed).toBe(true);
    for (const r of [hang, stall, stallStream]) expect(r.ms).toBeLessThan(13_000);
  }, 30_000);

  it('strikes an endpoint that refuses connections: its health reacts at once', async () => {
    const s = await startLlmlb({ checker: { timeoutMs: 1000 } });
    cleanups.push(() => s.close());
    const dead = await startFakeUpstream({ name: 'dead' });
    cleanups.push(() => dead.stop());
    const e = await s.router.endpoints.create({ name: 'dead', base_url: dead.url() });
    await s.router.checker.idle();
    await dead.stop();
    const res = await outcome(s, 'llama3.1:8b');
    expect(res.status).toBe(502);
    expect(res.ms).toBeLessThan(2000);
    // The passive strike ran an immediate check: one failure recorded, still online (SPEC §3).
    await until(async () => (await s.router.endpoints.get(e.id)).error_count === 1);
    expect(await s.router.endpoints.get(e.id)).toMatchObject({ status: 'online', last_error: 'connection refused' });
  });
});

describe('slow-loris clients against the standalone server', () => {
  it('keeps serving while slow clients trickle headers, and drops them after the headers timeout', async () => {
    const config = parseCliConfig(['serve', '--port', '0', '--memory', '--log-level', 'error'], { LLMLB_ADMIN_KEY: 'slowloris-admin-key-0123' });
    if (config.command !== 'serve') throw new Error('expected serve');
    const sink = { write: () => true };
    const handle = await runServe(config.config, { stdout: sink, stderr: sink });
    cleanups.push(() => handle.stop());

    const closed: Promise<number>[] = [];
    const started = performance.now();
    for (let i = 0; i < 50; i++) {
      const socket = connect(handle.port, '127.0.0.1');
      socket.write('GET /v0/endpoints HTTP/1.1\r\nHost: x\r\n');
      const drip = setInterval(() => socket.write('X-Drip: 1\r\n'), 500);
      closed.push(
        new Promise((resolve) => {
          socket.on('close', () => {
            clearInterval(drip);
            resolve(performance.now() - started);
          });
          socket.on('error', () => undefined);
        }),
      );
    }
    const ok = await fetch(`${handle.url}/v0/endpoints`, { headers: { authorization: 'Bearer slowloris-admin-key-0123' } });
    expect(ok.status).toBe(200);
    const times = await Promise.all(closed);
    expect(Math.max(...times)).toBeLessThan(13_000);
  }, 30_000);
});
