/**
 * Concurrency through the real HTTP stack:
 *
 * (a) racing registrations on a SQLite file: uniqueness holds (one 201, the rest 409, one row);
 * (b) racing update / delete / sync / test / get on one endpoint with the health checker
 *     scheduling against a live upstream: the final state is consistent — API view = stored row,
 *     fields are values that were written, the history is a valid chain that obeys the status
 *     rules of SPEC §3, and a deleted endpoint leaves nothing behind;
 * (c) the proxy under 200 concurrent streams across 3 upstreams, one killed mid-stream: every
 *     stream ends either with `data: [DONE]` (healthy endpoint) or with an SSE error event
 *     (killed endpoint) — never silently.
 *
 * Scenario (b) is a fast-check property, so a failing interleaving of operations comes with a
 * seed: `LLMLB_FUZZ_SEED=<seed> npx vitest run tests/reliability/concurrency.test.ts`; soak it with
 * `LLMLB_FUZZ_RUNS=<factor>`.
 */
import { routerInternals } from '../../src/internals.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { Agent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { roundRobinSelector } from '../../src/select/round-robin.js';
import { sqliteStorage } from '../../src/storage/sqlite/index.js';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.js';
import { ADMIN_KEY, CLIENT_KEY, type LlmlbServer, startLlmlb, until } from '../helpers/llmlb-server.js';

const SEED = process.env.LLMLB_FUZZ_SEED === undefined ? undefined : Number(process.env.LLMLB_FUZZ_SEED);
/** Multiplies the number of scenarios of (b), for a longer soak (`LLMLB_FUZZ_RUNS=20`). */
const RUNS_FACTOR = Number(process.env.LLMLB_FUZZ_RUNS ?? 1) || 1;
const params = (numRuns: number): fc.Parameters<unknown> => ({ numRuns: Math.ceil(numRuns * RUNS_FACTOR), ...(SEED === undefined ? {} : { seed: SEED }) });
const STATUSES = ['pending', 'online', 'offline', 'error'];

let dir: string;
let llmlb: LlmlbServer | undefined;
let db: Database.Database | undefined;
let agent: Agent | undefined;
let upstreams: FakeUpstream[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmlb-concurrency-'));
});

afterEach(async () => {
  db?.close();
  db = undefined;
  await agent?.close();
  agent = undefined;
  await llmlb?.close();
  llmlb = undefined;
  await Promise.all(upstreams.map((u) => u.stop()));
  upstreams = [];
  rmSync(dir, { recursive: true, force: true });
});

interface JsonRes {
  status: number;
  body: any;
}

/** One admin call over the test's own agent (so 50+ requests really run in parallel). */
async function call(method: string, path: string, body?: unknown): Promise<JsonRes> {
  const res = await agent!.request({
    origin: llmlb!.url,
    path,
    method: method as 'GET',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text === '' ? null : JSON.parse(text) };
}

async function startOnSqlite(checker: false | { timeoutMs: number }): Promise<string> {
  const filename = join(dir, 'llmlb.db');
  llmlb = await startLlmlb({ storage: sqliteStorage({ filename }), checker });
  agent = new Agent({ connections: 128, keepAliveTimeout: 10_000 });
  db = new Database(filename, { readonly: true, fileMustExist: true });
  return filename;
}

function count(status: number, results: readonly JsonRes[]): number {
  return results.filter((r) => r.status === status).length;
}

describe('(a) racing registrations on SQLite', () => {
  it('50 parallel POSTs with the same name: one 201, 49 × 409, one row', async () => {
    await startOnSqlite(false);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => call('POST', '/v0/endpoints', { name: 'same-name', base_url: `http://10.0.${i}.1:8000` })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, ...Array<number>(49).fill(409)]);
    for (const r of results.filter((x) => x.status === 409)) {
      expect(r.body).toEqual({
        error: { code: 'conflict', message: expect.stringContaining('same-name'), details: [{ path: 'name', message: 'already taken' }] },
      });
    }
    const winner = results.find((r) => r.status === 201)!.body;
    expect(db!.prepare('SELECT id, name, base_url FROM endpoints').all()).toEqual([{ id: winner.id, name: 'same-name', base_url: winner.base_url }]);
    const list = await call('GET', '/v0/endpoints');
    expect(list.body.total).toBe(1);
    expect(list.body.endpoints[0].id).toBe(winner.id);
  });

  it('50 parallel POSTs of the same URL spelled differently: one 201, 49 × 409, one row', async () => {
    await startOnSqlite(false);
    const spellings = ['http://10.9.9.9:8000', 'http://10.9.9.9:8000/', 'http://10.9.9.9:8000/v1', 'HTTP://10.9.9.9:8000/v1/', ' http://10.9.9.9:8000// '];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => call('POST', '/v0/endpoints', { name: `name-${i}`, base_url: spellings[i % spellings.length] })),
    );
    expect(count(201, results)).toBe(1);
    expect(count(409, results)).toBe(49);
    expect(db!.prepare('SELECT base_url FROM endpoints').all()).toEqual([{ base_url: 'http://10.9.9.9:8000' }]);
  });

  it('parallel renames of different endpoints to one name: exactly one wins', async () => {
    await startOnSqlite(false);
    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => call('POST', '/v0/endpoints', { name: `r-${i}`, base_url: `http://10.1.${i}.1:1` })));
    expect(count(201, created)).toBe(20);
    const renames = await Promise.all(created.map((c) => call('PUT', `/v0/endpoints/${c.body.id}`, { name: 'taken' })));
    expect(count(200, renames)).toBe(1);
    expect(count(409, renames)).toBe(19);
    expect(db!.prepare("SELECT count(*) AS n FROM endpoints WHERE name = 'taken'").get()).toEqual({ n: 1 });
    // The registry agrees with the table for every endpoint.
    const list = await call('GET', '/v0/endpoints');
    const rows = db!.prepare('SELECT id, name FROM endpoints ORDER BY id').all();
    expect(list.body.endpoints.map((e: { id: string; name: string }) => ({ id: e.id, name: e.name })).sort((x: { id: string }, y: { id: string }) => (x.id < y.id ? -1 : 1))).toEqual(rows);
  });
});

// ---------------------------------------------------------------------------------------------
// (b) racing operations on one endpoint
// ---------------------------------------------------------------------------------------------

const GOOD_KEY = 'sk-good-0123456789';
const BAD_KEY = 'sk-bad-9876543210';
const MODELS = ['llama3.1:8b', 'nomic-embed-text'];

type Op =
  | { kind: 'put'; name: boolean; notes: boolean; interval: number | null; timeout: number | null; apiKey: 'good' | 'bad' | 'none' | 'keep' }
  | { kind: 'delete' }
  | { kind: 'sync' }
  | { kind: 'test' }
  | { kind: 'get' };

const putOp: fc.Arbitrary<Op> = fc.record({
  kind: fc.constant('put' as const),
  name: fc.boolean(),
  notes: fc.boolean(),
  interval: fc.option(fc.integer({ min: 10, max: 300 }), { nil: null }) as fc.Arbitrary<number | null>,
  timeout: fc.option(fc.integer({ min: 10, max: 600 }), { nil: null }) as fc.Arbitrary<number | null>,
  apiKey: fc.constantFrom('good' as const, 'bad' as const, 'none' as const, 'keep' as const),
});
const otherOp: fc.Arbitrary<Op> = fc.constantFrom<Op>({ kind: 'sync' }, { kind: 'test' }, { kind: 'get' });
const opsArb = (deletes: fc.Arbitrary<number[]>) =>
  fc.tuple(fc.array(fc.oneof({ weight: 4, arbitrary: putOp }, { weight: 5, arbitrary: otherOp }), { minLength: 40, maxLength: 40 }), deletes).map(([ops, at]) => {
    const out = [...ops];
    for (const i of at) out[i] = { kind: 'delete' };
    return out;
  });

interface HistoryRow {
  id: string;
  endpoint_id: string;
  checked_at: string;
  success: number;
  latency_ms: number | null;
  error_message: string | null;
  status_before: string;
  status_after: string;
}

/** SPEC §3, written out independently of src/health/transition.ts. */
function specNext(status: string, errorCount: number, row: HistoryRow): { status: string | string[]; errorCount: number } {
  if (row.success === 1) return { status: 'online', errorCount: 0 };
  const n = errorCount + 1;
  if (/^HTTP 40[13]\b/.test(row.error_message ?? '')) return { status: 'error', errorCount: n };
  switch (status) {
    case 'pending':
      return { status: 'offline', errorCount: n };
    case 'online':
      return { status: n >= 2 ? 'offline' : 'online', errorCount: n };
    case 'offline':
      return { status: 'offline', errorCount: n };
    default:
      return { status: ['offline', 'error'], errorCount: n }; // the spec leaves error + outage open
  }
}

let scenario = 0;

/** Registers an endpoint, fires `ops` at it over `lanes` concurrent lanes, waits for quiet, checks consistency. */
async function runScenario(upstream: FakeUpstream, ops: readonly Op[], lanes: number): Promise<void> {
  scenario++;
  const initial = { name: `race-${scenario}`, base_url: upstream.url(`/s${scenario}`), api_key: GOOD_KEY, notes: 'initial' };
  const created = await call('POST', '/v0/endpoints', initial);
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  const initialFields = { name: initial.name, notes: initial.notes, health_check_interval_secs: 30, inference_timeout_secs: 120, has_api_key: true };

  const bodies = ops.map((op, i) => {
    if (op.kind !== 'put') return undefined;
    const body: Record<string, unknown> = {};
    if (op.name) body.name = `race-${scenario}-op${i}`;
    if (op.notes) body.notes = `note ${i}`;
    if (op.interval !== null) body.health_check_interval_secs = op.interval;
    if (op.timeout !== null) body.inference_timeout_secs = op.timeout;
    if (op.apiKey !== 'keep') body.api_key = op.apiKey === 'good' ? GOOD_KEY : op.apiKey === 'bad' ? BAD_KEY : null;
    return body;
  });
  const send = (op: Op, i: number): Promise<JsonRes> => {
    switch (op.kind) {
      case 'put':
        return call('PUT', `/v0/endpoints/${id}`, bodies[i]);
      case 'delete':
        return call('DELETE', `/v0/endpoints/${id}`);
      case 'sync':
        return call('POST', `/v0/endpoints/${id}/sync`);
      case 'test':
        return call('POST', `/v0/endpoints/${id}/test`);
      case 'get':
        return call('GET', `/v0/endpoints/${id}`);
    }
  };
  // `lanes` concurrent lanes, each sending its share of the operations one after the other: with
  // 40 lanes everything is in flight at once; with fewer, several generations of checks race too.
  const results: JsonRes[] = new Array(ops.length);
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let i = lane; i < ops.length; i += lanes) results[i] = await send(ops[i]!, i);
    }),
  );
  await llmlb!.router.checker.idle();

  // Every answer is one the API documents for that operation.
  const hasDelete = ops.some((op) => op.kind === 'delete');
  const gone = hasDelete ? [404] : [];
  ops.forEach((op, i) => {
    const res = results[i]!;
    const where = `${op.kind} #${i} → ${res.status} ${JSON.stringify(res.body)}`;
    switch (op.kind) {
      case 'put': {
        expect([200, ...gone], where).toContain(res.status);
        if (res.status === 200) {
          const body = bodies[i]!;
          for (const key of ['name', 'notes', 'health_check_interval_secs', 'inference_timeout_secs'] as const) {
            if (key in body) expect(res.body[key], where).toBe(body[key]);
          }
          if ('api_key' in body) expect(res.body.has_api_key, where).toBe(body.api_key !== null);
          expect(res.body).not.toHaveProperty('api_key');
        }
        break;
      }
      case 'delete':
        expect([204, 404], where).toContain(res.status);
        break;
      case 'sync':
        expect([200, 503, ...gone], where).toContain(res.status);
        if (res.status === 200) {
          expect(res.body.synced_models.map((m: { model_id: string }) => m.model_id).sort(), where).toEqual([...MODELS].sort());
        }
        if (res.status === 503) expect(res.body.error.code, where).toBe('endpoint_offline');
        break;
      case 'test':
        expect([200, ...gone], where).toContain(res.status);
        if (res.status === 200 && res.body.success) expect(res.body.endpoint_info.model_count, where).toBe(MODELS.length);
        // The upstream is alive: the only possible failure is the credential.
        if (res.status === 200 && !res.body.success) expect(res.body.error_kind, where).toBe('unauthorized');
        break;
      case 'get':
        expect([200, ...gone], where).toContain(res.status);
        break;
    }
  });

  const rows = {
    endpoint: db!.prepare('SELECT * FROM endpoints WHERE id = ?').get(id) as Record<string, unknown> | undefined,
    models: db!.prepare('SELECT * FROM endpoint_models WHERE endpoint_id = ? ORDER BY model_id').all(id) as Record<string, unknown>[],
    history: db!.prepare('SELECT * FROM endpoint_health_checks WHERE endpoint_id = ? ORDER BY rowid').all(id) as HistoryRow[],
  };

  if (hasDelete) {
    expect(count(204, results), 'exactly one DELETE wins').toBe(1);
    const detail = await call('GET', `/v0/endpoints/${id}`);
    expect(detail.status).toBe(404);
    expect(rows).toEqual({ endpoint: undefined, models: [], history: [] });
    const { registry } = routerInternals(llmlb!.router).store;
    expect(registry.getEndpoint(id)).toBeUndefined();
    expect(registry.modelsOf(id)).toEqual([]);
    const list = await call('GET', '/v0/endpoints');
    expect(list.body.endpoints.map((e: { id: string }) => e.id)).not.toContain(id);
    return;
  }

  // Not deleted: the API view is exactly the stored row.
  const detail = await call('GET', `/v0/endpoints/${id}`);
  expect(detail.status).toBe(200);
  const row = rows.endpoint!;
  expect(row).toBeDefined();
  // The row's version is internal: the API never shows it.
  const { api_key_encrypted, version: _version, ...publicRow } = row;
  const { models: detailModels, has_api_key, ...publicDetail } = detail.body as Record<string, unknown> & { models: unknown[] };
  expect(publicDetail).toEqual(publicRow);
  expect(has_api_key).toBe(api_key_encrypted !== null);
  expect(detailModels).toEqual(
    rows.models.map((m) => ({
      model_id: m.model_id,
      capabilities: JSON.parse(String(m.capabilities)),
      last_checked: m.last_checked,
      capabilities_source: m.capabilities_source,
      context_length: m.context_length,
      loaded: m.loaded === null ? null : m.loaded === 1,
      size_bytes: m.size_bytes,
      quantization: m.quantization,
    })),
  );

  // Each field holds a value that was written: by the last successful write of it, or the initial one.
  const succeeded = ops.map((_, i) => i).filter((i) => ops[i]!.kind === 'put' && results[i]!.status === 200);
  const final: Record<string, unknown> = { ...publicDetail, has_api_key };
  for (const key of ['name', 'notes', 'health_check_interval_secs', 'inference_timeout_secs', 'has_api_key'] as const) {
    const bodyKey = key === 'has_api_key' ? 'api_key' : key;
    const written = succeeded.filter((i) => bodyKey in bodies[i]!).map((i) => (key === 'has_api_key' ? bodies[i]!.api_key !== null : bodies[i]![bodyKey]));
    expect(written.length === 0 ? [initialFields[key]] : written, key).toContainEqual(final[key]);
  }

  // The history is one chain from `pending` that obeys the status rules, and ends in the row.
  let status = 'pending';
  let errorCount = 0;
  let lastSuccess: HistoryRow | undefined;
  let lastFailure: HistoryRow | undefined;
  for (const h of rows.history) {
    const where = JSON.stringify(h);
    expect(STATUSES, where).toContain(h.status_before);
    expect(STATUSES, where).toContain(h.status_after);
    expect(h.status_before, `${where}: chain broken`).toBe(status);
    if (h.success === 1) {
      expect(h.latency_ms, where).not.toBeNull();
      expect(h.error_message, where).toBeNull();
      lastSuccess = h;
    } else {
      expect(h.success, where).toBe(0);
      expect(h.latency_ms, where).toBeNull();
      expect(h.error_message, where).toEqual(expect.any(String));
      lastFailure = h;
    }
    const next = specNext(status, errorCount, h);
    if (Array.isArray(next.status)) expect(next.status, where).toContain(h.status_after);
    else expect(h.status_after, where).toBe(next.status);
    status = h.status_after;
    errorCount = next.errorCount;
  }
  expect(row.status).toBe(status);
  expect(row.error_count).toBe(errorCount);
  expect(row.last_seen).toBe(lastSuccess?.checked_at ?? null);
  expect(row.latency_ms).toBe(lastSuccess?.latency_ms ?? null);
  // A successful check clears last_error; the history keeps every error.
  const lastCheck = rows.history[rows.history.length - 1];
  expect(row.last_error).toBe(lastCheck?.success === 1 ? null : (lastFailure?.error_message ?? null));
  if (ops.some((op, i) => op.kind === 'test' && results[i]!.status === 200)) expect(rows.history.length).toBeGreaterThan(0);
  if (lastSuccess || results.some((r, i) => ops[i]!.kind === 'sync' && r.status === 200)) {
    expect(rows.models.map((m) => m.model_id)).toEqual([...MODELS].sort());
  }

  // The stored credential is one that was written: a fresh check succeeds iff it is the good key.
  const keyWrites = succeeded.filter((i) => 'api_key' in bodies[i]!).map((i) => bodies[i]!.api_key);
  const probe = await call('POST', `/v0/endpoints/${id}/test`);
  expect(probe.status).toBe(200);
  const possible = keyWrites.length === 0 ? [GOOD_KEY] : keyWrites;
  if (probe.body.success) expect(possible).toContain(GOOD_KEY);
  else expect(possible.some((k) => k !== GOOD_KEY)).toBe(true);

  // Clean up; the delete takes everything with it.
  expect((await call('DELETE', `/v0/endpoints/${id}`)).status).toBe(204);
  await llmlb!.router.checker.idle();
  expect(db!.prepare('SELECT count(*) AS n FROM endpoint_models WHERE endpoint_id = ?').get(id)).toEqual({ n: 0 });
  expect(db!.prepare('SELECT count(*) AS n FROM endpoint_health_checks WHERE endpoint_id = ?').get(id)).toEqual({ n: 0 });
}

describe('(b) racing update / delete / sync / test on one endpoint', () => {
  let upstream: FakeUpstream;

  beforeEach(async () => {
    upstream = await startFakeUpstream({ apiKey: GOOD_KEY, models: MODELS });
    upstreams.push(upstream);
    await startOnSqlite({ timeoutMs: 2000 });
  });

  it('without deletes: the state is one that was written and the history obeys the status rules', async () => {
    await fc.assert(
      fc.asyncProperty(opsArb(fc.constant([])), fc.constantFrom(40, 10, 5), (ops, lanes) => runScenario(upstream, ops, lanes)),
      params(8),
    );
  });

  it('with deletes: exactly one delete wins and nothing of the endpoint remains', async () => {
    await fc.assert(
      fc.asyncProperty(opsArb(fc.uniqueArray(fc.nat(39), { minLength: 1, maxLength: 3 })), fc.constantFrom(40, 10, 5), (ops, lanes) => runScenario(upstream, ops, lanes)),
      params(8),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (c) the proxy under 200 concurrent streams, one upstream killed mid-stream
// ---------------------------------------------------------------------------------------------

interface StreamState {
  status: number | null;
  endpoint: string | null;
  text: string;
  firstChunk: boolean;
  done: boolean;
  error: unknown;
}

describe('(c) streaming proxy under load with an upstream killed mid-stream', () => {
  it('200 concurrent streams: healthy ones end with [DONE], the killed one’s with an error event', { timeout: 30_000 }, async () => {
    upstreams = await Promise.all([0, 1, 2].map((i) => startFakeUpstream({ name: `up${i}`, models: ['stream-model'] })));
    for (const u of upstreams) {
      u.streamEvents = 20;
      u.streamGapMs = 10;
    }
    const victim = upstreams[1]!;
    // Long enough that every stream on it is still running when it dies (ended by the kill, not by time).
    victim.streamEvents = 3000;
    llmlb = await startLlmlb({ checker: false, selector: roundRobinSelector() });
    agent = new Agent({ connections: 256, keepAliveTimeout: 10_000 });
    const ids: string[] = [];
    for (const [i, u] of upstreams.entries()) {
      const created = await llmlb.admin('POST', '/v0/endpoints', { name: `up${i}`, base_url: u.url() });
      expect(created.status).toBe(201);
      expect((await llmlb.admin('POST', `/v0/endpoints/${created.body.id}/test`)).body.success).toBe(true);
      ids.push(created.body.id as string);
    }
    const victimId = ids[1]!;

    const states: StreamState[] = Array.from({ length: 200 }, () => ({ status: null, endpoint: null, text: '', firstChunk: false, done: false, error: undefined }));
    const body = JSON.stringify({ model: 'stream-model', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const all = states.map(async (state) => {
      try {
        const res = await agent!.request({
          origin: llmlb!.url,
          path: '/v1/chat/completions',
          method: 'POST',
          headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
          body,
        });
        state.status = res.statusCode;
        state.endpoint = (res.headers['x-llmlb-endpoint'] as string | undefined) ?? null;
        res.body.setEncoding('utf8');
        for await (const chunk of res.body) {
          state.text += chunk as string;
          state.firstChunk = true;
        }
      } catch (err) {
        state.error = err;
      } finally {
        state.done = true;
      }
    });

    // Kill the victim once every request is under way: each has its headers and first event (or is done).
    await until(() => states.every((s) => s.done || s.firstChunk), 20_000);
    const onVictim = states.filter((s) => s.endpoint === victimId);
    expect(onVictim.length).toBeGreaterThan(0);
    expect(onVictim.every((s) => !s.done)).toBe(true);
    await victim.stop();
    await Promise.all(all);

    const problems: string[] = [];
    for (const [i, s] of states.entries()) {
      const tail = s.text.slice(-200);
      if (s.error !== undefined) problems.push(`#${i}: request failed: ${String(s.error)}`);
      else if (s.status !== 200) problems.push(`#${i}: status ${s.status}`);
      else if (s.endpoint === victimId) {
        const events = s.text.split('\n\n').filter((e) => e !== '');
        const last = events.at(-1) ?? '';
        if (s.text.includes('data: [DONE]')) problems.push(`#${i}: [DONE] from the killed endpoint`);
        if (!last.startsWith('data: {"error":')) problems.push(`#${i}: killed stream ended silently: …${tail}`);
        else expect(JSON.parse(last.slice('data: '.length)).error.code).toBe('upstream_error');
      } else {
        if (!s.text.endsWith('data: [DONE]\n\n')) problems.push(`#${i}: healthy stream did not end with [DONE]: …${tail}`);
        if (s.text.includes('"error"')) problems.push(`#${i}: error event on a healthy stream`);
        const contents = [...s.text.matchAll(/"content":"(\d+) "/g)].map((m) => Number(m[1]));
        if (contents.join() !== Array.from({ length: 20 }, (_, k) => k).join()) problems.push(`#${i}: events missing or out of order`);
      }
    }
    expect(problems).toEqual([]);
    expect(states.filter((s) => s.endpoint !== victimId).length).toBeGreaterThan(0);
  });
});
