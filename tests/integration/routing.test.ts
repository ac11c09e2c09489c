/**
 * Routing across a fleet, end to end: real fake upstreams on 127.0.0.1 behind a router on
 * node:http. No herding, concurrency caps and the admission queue, priorities, weights, session
 * affinity, and endpoints that fail fast.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../helpers/fake-upstream.js';
import { type LlmlbServer, until, useFixtures } from '../helpers/llmlb-server.js';
import type { RequestEvent } from '../../src/proxy/options.js';

const { upstream, llmlb, register } = useFixtures();

const chat = (extra: Record<string, unknown> = {}) => ({ model: 'llama3.1:8b', messages: [{ role: 'user', content: 'hi' }], ...extra });

/** Answers chat requests only when the test opens the gate, counting the inference concurrency it sees. */
function gated(u: FakeUpstream): { open: () => void; running: () => number; peak: () => number; order: string[] } {
  const waiting: (() => void)[] = [];
  let running = 0;
  let peak = 0;
  let opened = false;
  const order: string[] = [];
  u.routes.set('POST /v1/chat/completions', async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    running++;
    peak = Math.max(peak, running);
    order.push(String(JSON.parse(body.toString()).tag ?? ''));
    if (!opened) await new Promise<void>((resolve) => waiting.push(resolve));
    running--;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: u.name } }] }));
    void req;
  });
  return {
    open: () => {
      opened = true;
      for (const resolve of waiting.splice(0)) resolve();
    },
    running: () => running,
    peak: () => peak,
    order,
  };
}

async function served(s: LlmlbServer, n: number, extra: Record<string, unknown> = {}): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await s.infer('/v1/chat/completions', chat(extra), extra.session ? { headers: { 'x-session-id': String(extra.session) } } : {});
    names.push(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content.replace('hello from ', ''));
  }
  return names;
}

describe('load-aware routing', () => {
  it('does not herd: two equal endpoints under concurrent load both get traffic, and every answer says why', async () => {
    const a = await upstream({ name: 'a' });
    const b = await upstream({ name: 'b', modelsDelayMs: 30 });
    a.inferenceDelayMs = 20;
    b.inferenceDelayMs = 20;
    const s = await llmlb();
    await register(s, a);
    await register(s, b);
    const responses = await Promise.all(Array.from({ length: 24 }, () => s.infer('/v1/chat/completions', chat())));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(a.requestsTo('/v1/chat/completions').length).toBeGreaterThanOrEqual(6);
    expect(b.requestsTo('/v1/chat/completions').length).toBeGreaterThanOrEqual(6);
    expect(responses[0]!.headers.get('x-llmlb-route')).toBe('least-expected-latency');
    expect(responses[0]!.headers.get('x-llmlb-queue-ms')).toBe('0');
  });

  it('sends no traffic to an endpoint that fails fast with 503 while another answers', async () => {
    const fast503 = await upstream({ name: 'fast503' });
    const good = await upstream({ name: 'good' });
    fast503.inferenceStatus = 503;
    good.inferenceDelayMs = 30;
    const s = await llmlb();
    await register(s, fast503);
    await register(s, good);
    for (let i = 0; i < 3; i++) expect((await s.infer('/v1/chat/completions', chat())).status).toBe(200);
    const responses = await Promise.all(Array.from({ length: 20 }, () => s.infer('/v1/chat/completions', chat())));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    // It is tried once (slow start); its 503 counts as a failure and suspends it, never as a fast answer.
    expect(fast503.requestsTo('/v1/chat/completions').length).toBeLessThanOrEqual(1);
    expect(good.requestsTo('/v1/chat/completions').length).toBe(23);
  });
});

describe('concurrency caps and the admission queue', () => {
  it('holds caps of 2 and 3 exactly under 200 concurrent requests, and answers every one', async () => {
    const a = await upstream({ name: 'a' });
    const b = await upstream({ name: 'b' });
    const ga = gated(a);
    const gb = gated(b);
    const s = await llmlb({ proxy: { queueLength: 500, queueTimeoutMs: 20_000 } });
    await register(s, a, { max_concurrency: 2 });
    await register(s, b, { max_concurrency: 3 });
    const all = Promise.all(Array.from({ length: 200 }, () => s.infer('/v1/chat/completions', chat())));
    await until(() => ga.running() === 2 && gb.running() === 3);
    ga.open();
    gb.open();
    const responses = await all;
    expect(responses.map((r) => r.status)).toEqual(Array(200).fill(200));
    expect(ga.peak()).toBe(2);
    expect(gb.peak()).toBe(3);
    expect(Number(responses[199]!.headers.get('x-llmlb-queue-ms'))).toBeGreaterThanOrEqual(0);
  });

  it('serves waiting requests in arrival order and reports the wait', async () => {
    const a = await upstream({ name: 'a' });
    const gate = gated(a);
    const s = await llmlb();
    await register(s, a, { max_concurrency: 1 });
    const events: RequestEvent[] = [];
    s.router.on('request', (e) => events.push(e));
    const first = s.infer('/v1/chat/completions', chat({ tag: 'first' }));
    await until(() => gate.running() === 1);
    const queued: Promise<Response>[] = [];
    for (const [i, tag] of ['q1', 'q2', 'q3'].entries()) {
      queued.push(s.infer('/v1/chat/completions', chat({ tag })));
      await until(() => routerQueue(s) === i + 1);
    }
    expect(s.router.stats.get(idOf(s)).in_flight).toBe(1);
    gate.open();
    const responses = await Promise.all([first, ...queued]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(gate.order).toEqual(['first', 'q1', 'q2', 'q3']);
    expect(Number(responses[3]!.headers.get('x-llmlb-queue-ms'))).toBeGreaterThanOrEqual(0);
    expect(events.map((e) => e.route_reason)).toEqual(Array(4).fill('only-candidate'));
  });

  it('answers 429 with Retry-After when the queue is full and 503 with Retry-After when the wait is too long', async () => {
    const a = await upstream({ name: 'a' });
    const gate = gated(a);
    const s = await llmlb({ proxy: { queueLength: 1, queueTimeoutMs: 300 } });
    await register(s, a, { max_concurrency: 1 });
    const first = s.infer('/v1/chat/completions', chat());
    await until(() => gate.running() === 1);
    const waiting = s.infer('/v1/chat/completions', chat());
    await until(() => routerQueue(s) === 1);
    const full = await s.infer('/v1/chat/completions', chat());
    expect(full.status).toBe(429);
    expect(full.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await full.json()) as { error: { code: string; type: string } }).error).toMatchObject({ code: 'queue_full', type: 'rate_limit_error' });
    const timedOut = await waiting;
    expect(timedOut.status).toBe(503);
    expect(timedOut.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await timedOut.json()) as { error: { code: string } }).error.code).toBe('queue_timeout');
    gate.open();
    expect((await first).status).toBe(200);
  });

  it('a client that disconnects while queued leaves the queue and never reaches the endpoint', async () => {
    const a = await upstream({ name: 'a' });
    const gate = gated(a);
    const s = await llmlb();
    await register(s, a, { max_concurrency: 1 });
    const first = s.infer('/v1/chat/completions', chat({ tag: 'first' }));
    await until(() => gate.running() === 1);
    const controller = new AbortController();
    const gone = s.infer('/v1/chat/completions', chat({ tag: 'gone' }), { signal: controller.signal }).catch(() => 'aborted');
    await until(() => routerQueue(s) === 1);
    controller.abort();
    expect(await gone).toBe('aborted');
    await until(() => routerQueue(s) === 0);
    gate.open();
    expect((await first).status).toBe(200);
    expect((await s.infer('/v1/chat/completions', chat({ tag: 'after' }))).status).toBe(200);
    expect(gate.order).toEqual(['first', 'after']);
  });
});

describe('priorities, weights and affinity', () => {
  it('spills to the next tier only when the first is saturated, and returns when it frees', async () => {
    const primary = await upstream({ name: 'primary' });
    const backup = await upstream({ name: 'backup' });
    const gate = gated(primary);
    const s = await llmlb();
    await register(s, primary, { max_concurrency: 1, priority: 0 });
    await register(s, backup, { priority: 1 });
    const held = s.infer('/v1/chat/completions', chat());
    await until(() => gate.running() === 1);
    const spilled = await s.infer('/v1/chat/completions', chat());
    expect(spilled.headers.get('x-llmlb-route')).toBe('spillover');
    expect(spilled.headers.get('x-llmlb-endpoint')).not.toBeNull();
    gate.open();
    await held;
    const back = await s.infer('/v1/chat/completions', chat());
    expect(((await back.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('primary');
    expect(back.headers.get('x-llmlb-route')).toBe('only-candidate');
  });

  it('spreads by weight before any traffic is measured', async () => {
    const small = await upstream({ name: 'small' });
    const big = await upstream({ name: 'big' });
    const gs = gated(small);
    const gb = gated(big);
    const s = await llmlb();
    await register(s, small, { weight: 1 });
    await register(s, big, { weight: 3 });
    const all = Promise.all(Array.from({ length: 8 }, () => s.infer('/v1/chat/completions', chat())));
    await until(() => gs.running() + gb.running() === 8);
    expect(gb.running()).toBe(6);
    expect(gs.running()).toBe(2);
    gs.open();
    gb.open();
    await all;
  });

  it('keeps a session on its endpoint, and re-pins it when that endpoint fails', async () => {
    const a = await upstream({ name: 'a' });
    const b = await upstream({ name: 'b' });
    const s = await llmlb({ proxy: { affinity: true } });
    await register(s, a);
    await register(s, b);
    const first = await served(s, 1, { session: 'conversation-1' });
    const again = await served(s, 5, { session: 'conversation-1' });
    expect(again).toEqual(Array(5).fill(first[0]));
    const res = await s.infer('/v1/chat/completions', chat(), { headers: { 'x-session-id': 'conversation-1' } });
    expect(res.headers.get('x-llmlb-route')).toBe('affinity');
    await res.text();
    // Its endpoint dies: the session fails over and stays on the other one.
    await (first[0] === 'a' ? a : b).stop();
    const moved = await served(s, 3, { session: 'conversation-1' });
    expect(new Set(moved)).toEqual(new Set([first[0] === 'a' ? 'b' : 'a']));
  });
});

/** The id of the only endpoint. */
function idOf(s: LlmlbServer): string {
  return s.router.stats.list()[0]!.endpoint_id;
}

/** Requests waiting in the admission queue. */
function routerQueue(s: LlmlbServer): number {
  return s.router.stats.queued;
}
