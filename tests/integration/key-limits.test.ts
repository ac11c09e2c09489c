/**
 * Per-key limits and usage on `/v1`: concurrent requests and requests per minute hold exactly
 * under concurrent load, a model list narrows what a key sees and uses, and the usage read back
 * matches the traffic sent (streamed and not, tokens from the upstream's `usage`), across a
 * restart on the same SQLite file (usage is flushed on stop).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { RequestEvent } from '../../src/proxy/options.js';
import { sqliteStorage } from '../../src/storage/sqlite/index.js';
import { gateChat } from '../helpers/fake-upstream.js';
import { bodyOf, callWith, chatWith, createKey } from '../helpers/keys.js';
import { until, useFixtures } from '../helpers/llmlb-server.js';

const { upstream, llmlb, register } = useFixtures();
const MODEL = 'llama3.1:8b';

describe('per-key limits', () => {
  it('max_concurrency: of N concurrent requests exactly N − limit get a 429 with Retry-After', async () => {
    const s = await llmlb();
    const u = await upstream();
    await register(s, u);
    const held = gateChat(u);
    const key = await createKey(s, { name: 'narrow', role: 'client', limits: { max_concurrency: 3 } });
    let answered = 0;
    const answers = Array.from({ length: 10 }, () => chatWith(s, key.secret, MODEL).finally(() => answered++));
    // The refused ones answer at once; the admitted ones wait at the upstream until it opens.
    await until(() => held.running() === 3 && answered === 7);
    held.open();
    const responses = await Promise.all(answers);
    const refused = responses.filter((r) => r.status === 429);
    expect(refused).toHaveLength(7);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(3);
    expect(held.peak()).toBe(3);
    for (const r of refused) {
      expect(r.headers.get('retry-after')).toBe('1');
      expect(await r.json()).toMatchObject({ error: { code: 'rate_limited', type: 'rate_limit_error' } });
    }
    // Slots are free again.
    expect((await chatWith(s, key.secret, MODEL)).status).toBe(200);
  });

  it('requests_per_minute: exactly the limit is admitted within a minute, the rest get 429', async () => {
    const s = await llmlb();
    await register(s, await upstream());
    const key = await createKey(s, { name: 'metered', role: 'client', limits: { requests_per_minute: 4 } });
    const events: RequestEvent[] = [];
    s.router.on('request', (e) => events.push(e));
    await s.router.metrics(); // metrics count from their first use
    const responses = await Promise.all(Array.from({ length: 9 }, () => chatWith(s, key.secret, MODEL)));
    expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 429, 429, 429, 429, 429]);
    // Refusals are reported like any request: events (so the request log and metrics) name the key.
    const refusals = events.filter((e) => e.status === 429);
    expect(refusals).toHaveLength(5);
    expect(refusals[0]).toMatchObject({ route: 'chat', model: MODEL, endpoint_id: null, error: 'rate_limited', attempts: 0, key_id: key.id, key_name: 'metered' });
    expect(await s.router.metrics()).toMatch(/llmlb_requests_total\{[^}]*status="429"[^}]*\} 5/);
    const retryAfter = Number(responses.find((r) => r.status === 429)!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(59);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Another key is not affected; lifting the limit applies at once.
    const other = await createKey(s, { name: 'other', role: 'client', limits: { requests_per_minute: 4 } });
    expect((await chatWith(s, other.secret, MODEL)).status).toBe(200);
    await s.admin('PUT', `/v0/keys/${key.id}`, { limits: { requests_per_minute: null } });
    expect((await chatWith(s, key.secret, MODEL)).status).toBe(200);
  });

  it('a model list: other models are a 404 model_not_found, and /v1/models shows only the allowed ones', async () => {
    const s = await llmlb();
    await register(s, await upstream({ models: [MODEL, 'qwen2.5:7b'] }));
    const key = await createKey(s, { name: 'scoped', role: 'client', limits: { models: ['qwen2.5:7b'] } });
    const refused = await chatWith(s, key.secret, MODEL);
    expect(refused.status).toBe(404);
    expect(await refused.json()).toMatchObject({ error: { code: 'model_not_found', type: 'not_found_error' } });
    expect((await chatWith(s, key.secret, 'qwen2.5:7b')).status).toBe(200);
    const listed = await bodyOf(await callWith(s, key.secret, 'GET', '/v1/models'));
    expect(listed.data.map((m: { id: string }) => m.id)).toEqual(['qwen2.5:7b']);
    expect((await callWith(s, key.secret, 'GET', `/v1/models/${MODEL}`)).status).toBe(404);
    expect((await callWith(s, key.secret, 'GET', '/v1/models/qwen2.5:7b')).status).toBe(200);
  });
});

describe('usage per key', () => {
  it('matches the traffic sent: requests, errors and tokens per model, streamed or not', async () => {
    const s = await llmlb();
    const u = await upstream({ models: [MODEL, 'qwen2.5:7b'] });
    u.streamEvents = 3;
    await register(s, u);
    const key = await createKey(s, { name: 'billing', role: 'client', limits: { requests_per_minute: 7 } });
    for (let i = 0; i < 3; i++) expect((await chatWith(s, key.secret, MODEL)).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const streamed = await chatWith(s, key.secret, 'qwen2.5:7b', true);
      expect(streamed.status).toBe(200);
      await streamed.text();
    }
    u.inferenceStatus = 500;
    expect((await chatWith(s, key.secret, MODEL)).status).toBe(500);
    u.inferenceStatus = undefined;
    expect((await chatWith(s, key.secret, 'not-served')).status).toBe(404);
    expect((await chatWith(s, key.secret, MODEL)).status).toBe(429); // the 8th request within the minute is refused

    const report = (await s.admin('GET', `/v0/keys/${key.id}/usage`)).body;
    const byModel = Object.fromEntries(report.usage.map((row: { model: string }) => [row.model, row]));
    // Non-stream answers report 1 + 3 tokens each; streams 2 + 3 (three events).
    expect(byModel[MODEL]).toMatchObject({ requests: 5, errors: 2, prompt_tokens: 3, completion_tokens: 9 });
    expect(byModel['qwen2.5:7b']).toMatchObject({ requests: 2, errors: 0, prompt_tokens: 4, completion_tokens: 6 });
    expect(byModel['not-served']).toMatchObject({ requests: 1, errors: 1, prompt_tokens: 0, completion_tokens: 0 });
    expect(report.totals).toEqual({ requests: 8, errors: 3, prompt_tokens: 7, completion_tokens: 15 });
    expect(report.usage[0].hour).toMatch(/T\d{2}:00:00\.000Z$/);
  });

  it('is flushed on stop and read back after a restart on the same file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmlb-usage-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const filename = join(dir, 'llmlb.db');
    const u = await upstream();
    const first = await llmlb({ storage: sqliteStorage({ filename }) });
    await register(first, u);
    const key = await createKey(first, { name: 'persisted', role: 'client' });
    for (let i = 0; i < 4; i++) expect((await chatWith(first, key.secret, MODEL)).status).toBe(200);
    await first.close();

    const second = await llmlb({ storage: sqliteStorage({ filename }) });
    const report = (await second.admin('GET', `/v0/keys/${key.id}/usage`)).body;
    expect(report.totals).toEqual({ requests: 4, errors: 0, prompt_tokens: 4, completion_tokens: 12 });
    // The key itself survived the restart too.
    await second.admin('POST', '/v0/endpoints', { name: 'again', base_url: u.url() });
    await second.router.checker.idle();
    expect((await chatWith(second, key.secret, MODEL)).status).toBe(200);
  });

  it('the usage query: a range, validation, unknown keys', async () => {
    const s = await llmlb();
    const key = await createKey(s, { name: 'q', role: 'client' });
    const from = '2026-01-01T00:00:00.000Z';
    const ok = await s.admin('GET', `/v0/keys/${key.id}/usage?from=${from}&to=2026-01-02T00:00:00.000Z`);
    expect(ok.body).toEqual({ key_id: key.id, from, to: '2026-01-02T00:00:00.000Z', usage: [], totals: { requests: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0 } });
    for (const query of ['from=yesterday', `from=2026-01-03T00:00:00.000Z&to=${from}`, `from=2025-01-01T00:00:00.000Z&to=${from}`, 'colour=red', `from=${from}&from=${from}`]) {
      const res = await s.admin('GET', `/v0/keys/${key.id}/usage?${query}`);
      expect(res.status, query).toBe(400);
    }
    expect((await s.admin('GET', '/v0/keys/00000000-0000-4000-8000-000000000000/usage')).status).toBe(404);
  });
});
