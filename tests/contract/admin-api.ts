/**
 * The `/v0/endpoints` admin API contract (SPEC §6, docs/api.md): one suite of HTTP cases, run
 * unchanged against every adapter. Each test gets a fresh router (memory storage, scheduled
 * checks on) behind a real server on 127.0.0.1, and talks to it with global `fetch`. Upstreams
 * are real fake servers on 127.0.0.1.
 *
 * Every response goes through one gate that asserts what must hold for all of them: no
 * configured secret in the body or headers, no stack trace, and errors in the documented shape.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Router } from '../../src/router.js';
import { type FakeUpstream, startFakeUpstream, type FakeUpstreamOptions } from '../helpers/fake-upstream.js';
import { NEW_ENDPOINT_DEFAULTS } from '../helpers/records.js';
import {
  ADMIN_KEY,
  type ApiResponse,
  CONFIGURED_SECRETS,
  type CallOptions,
  type Json,
  KEYS,
  STACK_LINE,
  checkedClient,
  contractRouter,
  expectError,
} from './client.js';
import { aliasContractCases } from './admin-aliases.js';
import { keysApiCases } from './keys-api.js';
import type { ContractServer, ServerFactory } from './servers.js';

/** The upstream credential registered with endpoints: it must never come back. */
const UPSTREAM_KEY = 'sk-upstream-SECRET-7f3a9c1e5b';
const OTHER_UPSTREAM_KEY = 'sk-upstream-OTHER-2d8e4f6a0c';
const SECRETS = [...CONFIGURED_SECRETS, UPSTREAM_KEY, OTHER_UPSTREAM_KEY];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const ENDPOINT_FIELDS = [
  'id',
  'name',
  'base_url',
  'status',
  'admin_state',
  'max_concurrency',
  'priority',
  'weight',
  'type',
  'type_source',
  'health_check_interval_secs',
  'inference_timeout_secs',
  'latency_ms',
  'last_seen',
  'last_error',
  'error_count',
  'registered_at',
  'updated_at',
  'notes',
  'static_models',
  'has_api_key',
].sort();
/** The fields of a model in an endpoint's detail. */
const MODEL_FIELDS = ['capabilities', 'capabilities_source', 'context_length', 'last_checked', 'loaded', 'model_id', 'quantization', 'size_bytes'];
/** Every response is checked: no secrets, no stack traces, the documented error shape. */
const request = checkedClient('admin', SECRETS);

/** Asserts what holds for every response besides: no sealed credential in any form. */
function gate(res: ApiResponse): void {
  expect(res.text).not.toMatch(/api_key_encrypted|v1:[A-Za-z0-9+/_-]{8,}:/);
}

/** The distinct field paths of a validation error's details, in order. */
function pathsOf(error: Json): string[] {
  return [...new Set<string>(error.details.map((d: Json) => d.path))];
}

function expectEndpointShape(e: Json): void {
  expect(Object.keys(e).filter((k) => k !== 'model_count' && k !== 'models').sort()).toEqual(ENDPOINT_FIELDS);
  expect(e.id).toMatch(UUID);
  expect(e.registered_at).toMatch(ISO);
  expect(e.updated_at).toMatch(ISO);
  expect(['pending', 'online', 'offline', 'error']).toContain(e.status);
  expect(['enabled', 'disabled', 'pending_approval']).toContain(e.admin_state);
  expect(['ollama', 'vllm', 'llama.cpp', 'lm-studio', 'sglang', 'openai-compatible']).toContain(e.type);
  expect(['detected', 'admin']).toContain(e.type_source);
  expect(typeof e.has_api_key).toBe('boolean');
  expect(e).not.toHaveProperty('api_key');
  expect(e).not.toHaveProperty('api_key_encrypted');
}

/**
 * Registers the admin API contract for one adapter.
 *
 * @example
 * runAdminApiContract('node http', nodeServer);
 */
export function runAdminApiContract(name: string, makeServer: ServerFactory): void {
  describe(`admin API contract — ${name}`, () => {
    let router: Router;
    let server: ContractServer;
    const cleanups: Array<() => Promise<void>> = [];

    beforeEach(async () => {
      router = contractRouter();
      await router.start();
      server = await makeServer(router);
    });

    afterEach(async () => {
      await server.close();
      await router.stop();
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function call(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> {
      const res = await request(server.baseUrl, method, path, options);
      gate(res);
      return res;
    }

    async function upstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
      const u = await startFakeUpstream(options);
      cleanups.push(() => u.stop());
      return u;
    }

    /** A base URL on 127.0.0.1 where nothing listens (connection refused). */
    async function deadUrl(): Promise<string> {
      const u = await startFakeUpstream();
      await u.stop();
      return u.url();
    }

    /** Registers an endpoint through the API and returns its body. */
    async function create(json: Record<string, unknown>): Promise<Json> {
      const res = await call('POST', '/v0/endpoints', { json });
      expect(res.status, res.text).toBe(201);
      return res.body;
    }

    /** The full list, after every background check has finished. */
    async function snapshot(): Promise<Json> {
      await router.checker.idle();
      const res = await call('GET', '/v0/endpoints');
      expect(res.status).toBe(200);
      const details = [];
      for (const e of res.body.endpoints) details.push((await call('GET', `/v0/endpoints/${e.id}`)).body);
      return { list: res.body, details };
    }

    // ---------------------------------------------------------------- runtime keys

    keysApiCases((method, path, options) => call(method, path, options));

    // ---------------------------------------------------------------- success shapes

    describe('POST /v0/endpoints', () => {
      it('201: returns the endpoint pending, with defaults and has_api_key, never the key', async () => {
        const u = await upstream({ apiKey: UPSTREAM_KEY, models: ['llama3.1:8b', 'nomic-embed-text'] });
        const res = await call('POST', '/v0/endpoints', {
          json: { name: '  gpu-1  ', base_url: `${u.url()}/v1/`, api_key: UPSTREAM_KEY, notes: 'rack 3' },
        });
        expect(res.status, res.text).toBe(201);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        const e = res.body;
        expectEndpointShape(e);
        expect(e).toMatchObject({ ...NEW_ENDPOINT_DEFAULTS, name: 'gpu-1', base_url: u.url(), has_api_key: true, notes: 'rack 3' });
        expect(e).not.toHaveProperty('model_count');

        // Creation triggers the first check in the background, with the key as Bearer.
        await router.checker.idle();
        const detail = await call('GET', `/v0/endpoints/${e.id}`);
        expect(detail.body).toMatchObject({ status: 'online', error_count: 0 });
        expect(detail.body.models.map((m: Json) => m.model_id)).toEqual(['llama3.1:8b', 'nomic-embed-text']);
        expect(u.requestsTo('/v1/models')[0]?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
      });

      it('201: accepts every optional field at its bounds; has_api_key false without a key', async () => {
        const low = await create({ name: 'low', base_url: await deadUrl(), health_check_interval_secs: 10, inference_timeout_secs: 10 });
        expect(low).toMatchObject({ health_check_interval_secs: 10, inference_timeout_secs: 10, has_api_key: false, notes: null });
        const high = await create({
          name: 'x'.repeat(100),
          base_url: 'http://127.0.0.1:9/high',
          health_check_interval_secs: 300,
          inference_timeout_secs: 600,
          notes: 'n'.repeat(2000),
        });
        expect(high).toMatchObject({ name: 'x'.repeat(100), base_url: 'http://127.0.0.1:9/high', health_check_interval_secs: 300, inference_timeout_secs: 600 });
        expect(high.notes).toHaveLength(2000);
      });
    });

    describe('GET /v0/endpoints', () => {
      it('200: {endpoints:[…+model_count], total}', async () => {
        const empty = await call('GET', '/v0/endpoints');
        expect(empty.status).toBe(200);
        expect(empty.body).toEqual({ endpoints: [], total: 0 });

        const u = await upstream({ models: ['a', 'b', 'embed-c'] });
        const one = await create({ name: 'one', base_url: u.url('/one') });
        const two = await create({ name: 'two', base_url: await deadUrl() });
        await router.checker.idle();
        const res = await call('GET', '/v0/endpoints');
        expect(res.status).toBe(200);
        expect(Object.keys(res.body).sort()).toEqual(['endpoints', 'total']);
        expect(res.body.total).toBe(2);
        for (const e of res.body.endpoints) expectEndpointShape(e);
        const byId = new Map<string, Json>(res.body.endpoints.map((e: Json) => [e.id, e]));
        expect(byId.get(one.id)).toMatchObject({ name: 'one', status: 'online', model_count: 3 });
        expect(byId.get(two.id)).toMatchObject({ name: 'two', status: 'offline', model_count: 0 });
        expect(byId.get(one.id)).not.toHaveProperty('models');
      });

      it('200: ?status= filters by status', async () => {
        const u = await upstream();
        const on = await create({ name: 'on', base_url: u.url() });
        const off = await create({ name: 'off', base_url: await deadUrl() });
        await router.checker.idle();
        const ids = async (status: string) => {
          const res = await call('GET', `/v0/endpoints?status=${status}`);
          expect(res.status).toBe(200);
          expect(res.body.total).toBe(res.body.endpoints.length);
          return res.body.endpoints.map((e: Json) => e.id);
        };
        expect(await ids('online')).toEqual([on.id]);
        expect(await ids('offline')).toEqual([off.id]);
        expect(await ids('pending')).toEqual([]);
        expect(await ids('error')).toEqual([]);
      });

      it('400: a bad status value, an unknown query parameter, a repeated parameter', async () => {
        const bad = expectError(await call('GET', '/v0/endpoints?status=bogus'), 400, 'validation_error');
        expect(bad.details.map((d: Json) => d.path)).toContain('status');
        expectError(await call('GET', '/v0/endpoints?status='), 400, 'validation_error');
        expectError(await call('GET', '/v0/endpoints?state=online'), 400, 'validation_error');
        expectError(await call('GET', '/v0/endpoints?status=online&limit=5'), 400, 'validation_error');
        expectError(await call('GET', '/v0/endpoints?status=online&status=offline'), 400, 'validation_error');
      });
    });

    describe('GET /v0/endpoints/:id', () => {
      it('200: the endpoint with models:[{model_id, capabilities, last_checked, metadata}]', async () => {
        const u = await upstream({ flavor: 'ollama', models: ['llama3.1:8b', 'nomic-embed-text:latest'] });
        const e = await create({ name: 'ollama', base_url: u.url() });
        await router.checker.idle();
        const res = await call('GET', `/v0/endpoints/${e.id}`);
        expect(res.status).toBe(200);
        expectEndpointShape(res.body);
        expect(res.body).toMatchObject({ id: e.id, name: 'ollama', status: 'online' });
        expect(res.body.latency_ms).toEqual(expect.any(Number));
        expect(res.body.last_seen).toMatch(ISO);
        expect(res.body).not.toHaveProperty('model_count');
        expect(res.body.models).toHaveLength(2);
        for (const m of res.body.models) {
          expect(Object.keys(m).sort()).toEqual(MODEL_FIELDS);
          expect(m.last_checked).toMatch(ISO);
          expect(m.capabilities_source).toBe('name');
        }
        expect(res.body.models.map((m: Json) => [m.model_id, m.capabilities])).toEqual([
          ['llama3.1:8b', ['chat']],
          ['nomic-embed-text:latest', ['embeddings']],
        ]);
      });

      it('200: models is [] before any successful check', async () => {
        const e = await create({ name: 'dead', base_url: await deadUrl() });
        await router.checker.idle();
        const res = await call('GET', `/v0/endpoints/${e.id}`);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ status: 'offline', error_count: 1, models: [] });
        expect(res.body.last_error).toEqual(expect.any(String));
      });
    });

    describe('PUT /v0/endpoints/:id', () => {
      it('200: changes name, interval, timeout and notes; returns the endpoint', async () => {
        const e = await create({ name: 'before', base_url: await deadUrl(), notes: 'old' });
        const res = await call('PUT', `/v0/endpoints/${e.id}`, {
          json: { name: 'after', health_check_interval_secs: 60, inference_timeout_secs: 300, notes: 'new' },
        });
        expect(res.status, res.text).toBe(200);
        expectEndpointShape(res.body);
        expect(res.body).toMatchObject({ id: e.id, name: 'after', base_url: e.base_url, health_check_interval_secs: 60, inference_timeout_secs: 300, notes: 'new' });
        expect(res.body.registered_at).toBe(e.registered_at);
        expect((await call('GET', `/v0/endpoints/${e.id}`)).body).toMatchObject({ name: 'after', notes: 'new', health_check_interval_secs: 60 });
        // An empty patch is valid and changes nothing but updated_at.
        const noop = await call('PUT', `/v0/endpoints/${e.id}`, { json: {} });
        expect(noop.status).toBe(200);
        expect(noop.body).toMatchObject({ name: 'after', notes: 'new' });
      });

      it('200: api_key sets and null removes the credential; notes: null clears the notes', async () => {
        const u = await upstream({ apiKey: OTHER_UPSTREAM_KEY });
        const e = await create({ name: 'keyed', base_url: u.url(), api_key: UPSTREAM_KEY, notes: 'to be cleared' });
        expect(e.has_api_key).toBe(true);
        const removed = await call('PUT', `/v0/endpoints/${e.id}`, { json: { api_key: null, notes: null } });
        expect(removed.status, removed.text).toBe(200);
        expect(removed.body).toMatchObject({ has_api_key: false, notes: null });
        expect((await call('GET', `/v0/endpoints/${e.id}`)).body).toMatchObject({ has_api_key: false, notes: null });

        const set = await call('PUT', `/v0/endpoints/${e.id}`, { json: { api_key: OTHER_UPSTREAM_KEY } });
        expect(set.status).toBe(200);
        expect(set.body.has_api_key).toBe(true);
        // The new key is the one sent upstream.
        const test = await call('POST', `/v0/endpoints/${e.id}/test`);
        expect(test.body.success).toBe(true);
        expect(u.requests.at(-1)?.headers.authorization).toBe(`Bearer ${OTHER_UPSTREAM_KEY}`);
      });

      it('400: any attempt to change base_url, even to the same value', async () => {
        const url = await deadUrl();
        const e = await create({ name: 'fixed', base_url: url });
        for (const base_url of ['http://127.0.0.1:9/elsewhere', url]) {
          const err = expectError(await call('PUT', `/v0/endpoints/${e.id}`, { json: { base_url } }), 400, 'validation_error');
          expect(err.details.map((d: Json) => d.path)).toContain('base_url');
        }
        const err = expectError(await call('PUT', `/v0/endpoints/${e.id}`, { json: { name: 'renamed', base_url: 'http://127.0.0.1:9/x' } }), 400, 'validation_error');
        expect(err.details.map((d: Json) => d.path)).toContain('base_url');
        expect((await call('GET', `/v0/endpoints/${e.id}`)).body).toMatchObject({ name: 'fixed', base_url: url });
      });

      it('409: renaming to a name another endpoint has', async () => {
        await create({ name: 'taken', base_url: 'http://127.0.0.1:9/a' });
        const e = await create({ name: 'mine', base_url: 'http://127.0.0.1:9/b' });
        expectError(await call('PUT', `/v0/endpoints/${e.id}`, { json: { name: 'taken' } }), 409, 'conflict');
        expectError(await call('PUT', `/v0/endpoints/${e.id}`, { json: { name: '  taken ' } }), 409, 'conflict');
        expect((await call('GET', `/v0/endpoints/${e.id}`)).body.name).toBe('mine');
        // Keeping its own name is not a conflict.
        expect((await call('PUT', `/v0/endpoints/${e.id}`, { json: { name: 'mine' } })).status).toBe(200);
      });

      it('400: validation errors name the offending fields', async () => {
        const e = await create({ name: 'valid', base_url: 'http://127.0.0.1:9/v' });
        const cases: Array<[unknown, string[]]> = [
          [{ name: '' }, ['name']],
          [{ name: '   ' }, ['name']],
          [{ health_check_interval_secs: 9 }, ['health_check_interval_secs']],
          [{ inference_timeout_secs: 601 }, ['inference_timeout_secs']],
          [{ api_key: '' }, ['api_key']],
          [{ notes: 5 }, ['notes']],
          [{ status: 'online' }, ['status']],
          [{ name: 'ok', health_check_interval_secs: 'often' }, ['health_check_interval_secs']],
        ];
        for (const [json, paths] of cases) {
          const err = expectError(await call('PUT', `/v0/endpoints/${e.id}`, { json }), 400, 'validation_error');
          expect(pathsOf(err), JSON.stringify(json)).toEqual(paths);
        }
        expect((await call('GET', `/v0/endpoints/${e.id}`)).body.name).toBe('valid');
      });
    });

    describe('DELETE /v0/endpoints/:id', () => {
      it('204 with an empty body, then 404 everywhere for that id', async () => {
        const u = await upstream();
        const e = await create({ name: 'doomed', base_url: u.url() });
        const keep = await create({ name: 'kept', base_url: await deadUrl() });
        await router.checker.idle();
        const res = await call('DELETE', `/v0/endpoints/${e.id}`);
        expect(res.status).toBe(204);
        expect(res.text).toBe('');
        expectError(await call('GET', `/v0/endpoints/${e.id}`), 404, 'not_found');
        expectError(await call('DELETE', `/v0/endpoints/${e.id}`), 404, 'not_found');
        expectError(await call('PUT', `/v0/endpoints/${e.id}`, { json: { notes: 'x' } }), 404, 'not_found');
        expectError(await call('POST', `/v0/endpoints/${e.id}/test`), 404, 'not_found');
        expectError(await call('POST', `/v0/endpoints/${e.id}/sync`), 404, 'not_found');
        const list = await call('GET', '/v0/endpoints');
        expect(list.body.endpoints.map((x: Json) => x.id)).toEqual([keep.id]);
        // Name and URL are free again.
        expect((await call('POST', '/v0/endpoints', { json: { name: 'doomed', base_url: u.url() } })).status).toBe(201);
      });
    });

    describe('POST /v0/endpoints/:id/test', () => {
      it('200 {success:true, latency_ms, endpoint_info:{version, model_count}} for an online upstream', async () => {
        const u = await upstream({ flavor: 'ollama', models: ['a', 'b', 'c'], version: '0.9.1', apiKey: UPSTREAM_KEY });
        const e = await create({ name: 'ollama', base_url: u.url(), api_key: UPSTREAM_KEY });
        await router.checker.idle();
        const res = await call('POST', `/v0/endpoints/${e.id}/test`);
        expect(res.status, res.text).toBe(200);
        expect(res.body).toEqual({ success: true, latency_ms: expect.any(Number), endpoint_info: { version: '0.9.1', model_count: 3 } });
        expect(Number.isInteger(res.body.latency_ms)).toBe(true);
        expect(res.body.latency_ms).toBeGreaterThanOrEqual(0);
        // An OpenAI-style upstream without a version answers version null (or a string).
        const v = await upstream({ models: ['x'] });
        const e2 = await create({ name: 'vllm', base_url: v.url() });
        const res2 = await call('POST', `/v0/endpoints/${e2.id}/test`);
        expect(res2.status).toBe(200);
        expect(res2.body).toMatchObject({ success: true, endpoint_info: { model_count: 1 } });
        expect(res2.body.endpoint_info.version === null || typeof res2.body.endpoint_info.version === 'string').toBe(true);
      });

      it('200 {success:false, error, latency_ms:null} for a stopped upstream, and the status moves', async () => {
        const u = await upstream();
        const e = await create({ name: 'flaky', base_url: u.url() });
        await router.checker.idle();
        expect((await call('GET', `/v0/endpoints/${e.id}`)).body.status).toBe('online');
        await u.stop();
        const res = await call('POST', `/v0/endpoints/${e.id}/test`);
        expect(res.status, res.text).toBe(200);
        expect(res.body).toMatchObject({ success: false, error: expect.any(String), latency_ms: null });
        expect(res.body.error.length).toBeGreaterThan(0);
        expect(res.body).not.toHaveProperty('endpoint_info');
        // One failure keeps an online endpoint online; the second takes it offline (SPEC §3).
        expect((await call('GET', `/v0/endpoints/${e.id}`)).body).toMatchObject({ status: 'online', error_count: 1 });
        await call('POST', `/v0/endpoints/${e.id}/test`);
        expect((await call('GET', `/v0/endpoints/${e.id}`)).body).toMatchObject({ status: 'offline', error_count: 2 });
      });
    });

    describe('POST /v0/endpoints/:id/sync', () => {
      it('200 {synced_models, added, removed, updated}', async () => {
        const u = await upstream({ models: ['keep-1', 'keep-2', 'gone'] });
        const e = await create({ name: 'sync', base_url: u.url() });
        await router.checker.idle();
        u.models = ['keep-1', 'keep-2', 'text-embedding-3-small', 'new-chat'];
        const res = await call('POST', `/v0/endpoints/${e.id}/sync`);
        expect(res.status, res.text).toBe(200);
        expect(Object.keys(res.body).sort()).toEqual(['added', 'removed', 'synced_models', 'updated']);
        expect(res.body).toMatchObject({ added: 2, removed: 1, updated: 2 });
        const synced = [...res.body.synced_models].sort((a: Json, b: Json) => a.model_id.localeCompare(b.model_id));
        expect(synced).toEqual([
          { model_id: 'keep-1', capabilities: ['chat'] },
          { model_id: 'keep-2', capabilities: ['chat'] },
          { model_id: 'new-chat', capabilities: ['chat'] },
          { model_id: 'text-embedding-3-small', capabilities: ['embeddings'] },
        ]);
        const detail = await call('GET', `/v0/endpoints/${e.id}`);
        expect(detail.body.models.map((m: Json) => m.model_id).sort()).toEqual(['keep-1', 'keep-2', 'new-chat', 'text-embedding-3-small']);
        // Unchanged list: everything updated, nothing added or removed.
        const again = await call('POST', `/v0/endpoints/${e.id}/sync`);
        expect(again.body).toMatchObject({ added: 0, removed: 0, updated: 4 });
      });

      it('503 endpoint_offline when the upstream does not answer; stored models are kept', async () => {
        const u = await upstream({ models: ['m1', 'm2'] });
        const e = await create({ name: 'gone', base_url: u.url() });
        await router.checker.idle();
        await u.stop();
        expectError(await call('POST', `/v0/endpoints/${e.id}/sync`), 503, 'endpoint_offline');
        const detail = await call('GET', `/v0/endpoints/${e.id}`);
        expect(detail.body.models.map((m: Json) => m.model_id)).toEqual(['m1', 'm2']);
        expect((await call('GET', '/v0/endpoints')).body.endpoints[0].model_count).toBe(2);
      });
    });

    aliasContractCases({ call, upstream, router: () => router });

    // ---------------------------------------------------------------- errors

    describe('400 validation_error', () => {
      const url = 'http://127.0.0.1:9/validation';
      const cases: Array<[string, unknown, string[]]> = [
        ['an empty object', {}, ['name', 'base_url']],
        ['an empty name and a non-URL', { name: '', base_url: 'not a url' }, ['name', 'base_url']],
        ['a whitespace-only name', { name: ' \t ', base_url: url }, ['name']],
        ['a name over 100 characters', { name: 'n'.repeat(101), base_url: url }, ['name']],
        ['a name with a control character', { name: 'a\u0000b', base_url: url }, ['name']],
        ['a non-http URL', { name: 'a', base_url: 'ftp://127.0.0.1/x' }, ['base_url']],
        ['a URL with credentials', { name: 'a', base_url: 'http://user:pw@127.0.0.1:9' }, ['base_url']],
        ['a URL with a query string', { name: 'a', base_url: 'http://127.0.0.1:9/?x=1' }, ['base_url']],
        ['a URL with a fragment', { name: 'a', base_url: 'http://127.0.0.1:9/#x' }, ['base_url']],
        ['wrong types', { name: 5, base_url: ['http://127.0.0.1:9'] }, ['name', 'base_url']],
        ['an interval below 10', { name: 'a', base_url: url, health_check_interval_secs: 9 }, ['health_check_interval_secs']],
        ['an interval above 300', { name: 'a', base_url: url, health_check_interval_secs: 301 }, ['health_check_interval_secs']],
        ['a fractional interval', { name: 'a', base_url: url, health_check_interval_secs: 30.5 }, ['health_check_interval_secs']],
        ['an interval as a string', { name: 'a', base_url: url, health_check_interval_secs: '30' }, ['health_check_interval_secs']],
        ['a timeout out of range', { name: 'a', base_url: url, inference_timeout_secs: 601 }, ['inference_timeout_secs']],
        ['an api_key with a space', { name: 'a', base_url: url, api_key: 'sk bad' }, ['api_key']],
        ['an empty api_key', { name: 'a', base_url: url, api_key: '' }, ['api_key']],
        ['api_key: null on create', { name: 'a', base_url: url, api_key: null }, ['api_key']],
        ['notes over 2000 characters', { name: 'a', base_url: url, notes: 'x'.repeat(2001) }, ['notes']],
        ['an unknown field', { name: 'a', base_url: url, status: 'online' }, ['status']],
        ['a JSON array', [{ name: 'a', base_url: url }], ['']],
        ['a JSON string', 'hello', ['']],
        ['JSON null', null, ['']],
      ];
      for (const [what, json, paths] of cases) {
        it(`POST with ${what} → details on ${paths.map((p) => p || '(root)').join(', ')}`, async () => {
          const res = await call('POST', '/v0/endpoints', { body: JSON.stringify(json), contentType: 'application/json' });
          const err = expectError(res, 400, 'validation_error');
          expect(pathsOf(err)).toEqual(paths);
          for (const d of err.details) expect(d.message.length).toBeGreaterThan(0);
          expect((await call('GET', '/v0/endpoints')).body.total).toBe(0);
        });
      }
    });

    describe('400 invalid_request', () => {
      it('malformed JSON', async () => {
        for (const body of ['{"name":', '{name: "a"}', "{'name':'a'}", 'nul', '{"name":"a",}']) {
          const res = await call('POST', '/v0/endpoints', { body, contentType: 'application/json' });
          expectError(res, 400, 'invalid_request');
        }
        const e = await create({ name: 'x', base_url: 'http://127.0.0.1:9/x' });
        expectError(await call('PUT', `/v0/endpoints/${e.id}`, { body: '{"notes":', contentType: 'application/json' }), 400, 'invalid_request');
      });

      it('an empty body', async () => {
        expectError(await call('POST', '/v0/endpoints', { body: '', contentType: 'application/json' }), 400, 'invalid_request');
        expectError(await call('POST', '/v0/endpoints', { contentType: 'application/json' }), 400, 'invalid_request');
        const e = await create({ name: 'x', base_url: 'http://127.0.0.1:9/x' });
        expectError(await call('PUT', `/v0/endpoints/${e.id}`, { body: '', contentType: 'application/json' }), 400, 'invalid_request');
      });
    });

    describe('401 unauthorized', () => {
      const callers: Array<[string, CallOptions['as']]> = [
        ['no Authorization header', null],
        ['an unknown key', { key: 'not-a-configured-key-0123456789' }],
        ['a key differing in case', { key: ADMIN_KEY.toUpperCase() }],
        ['a Basic credential', { authorization: `Basic ${Buffer.from(`admin:${ADMIN_KEY}`).toString('base64')}` }],
        ['the key without the Bearer scheme', { authorization: ADMIN_KEY }],
        ['an empty Bearer token', { authorization: 'Bearer ' }],
      ];
      for (const [what, as] of callers) {
        it(`with ${what}, on every route, with WWW-Authenticate: Bearer`, async () => {
          const e = await create({ name: 'x', base_url: 'http://127.0.0.1:9/x' });
          const requests: Array<[string, string, unknown?]> = [
            ['GET', '/v0/endpoints'],
            ['POST', '/v0/endpoints', { name: 'y', base_url: 'http://127.0.0.1:9/y' }],
            ['GET', `/v0/endpoints/${e.id}`],
            ['PUT', `/v0/endpoints/${e.id}`, { name: 'z' }],
            ['DELETE', `/v0/endpoints/${e.id}`],
            ['POST', `/v0/endpoints/${e.id}/test`],
            ['POST', `/v0/endpoints/${e.id}/sync`],
            ['GET', '/v0/nothing-here'],
          ];
          for (const [method, path, json] of requests) {
            const res = await call(method, path, { as, json });
            expectError(res, 401, 'unauthorized');
            expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
          }
          // Authentication comes before the body is looked at.
          for (const [body, contentType] of [['{"name":', 'application/json'], ['name=a', 'text/plain'], ['x'.repeat(70 * 1024), 'application/json']]) {
            const res = await call('POST', '/v0/endpoints', { as, body, contentType });
            expectError(res, 401, 'unauthorized');
          }
          const list = await call('GET', '/v0/endpoints');
          expect(list.body.endpoints.map((x: Json) => x.name)).toEqual(['x']);
        });
      }

      it('accepts the scheme name case-insensitively', async () => {
        expect((await call('GET', '/v0/endpoints', { as: { authorization: `bearer ${ADMIN_KEY}` } })).status).toBe(200);
        expect((await call('GET', '/v0/endpoints', { as: { authorization: `BEARER ${KEYS.viewer}` } })).status).toBe(200);
      });
    });

    describe('403 forbidden and roles', () => {
      const viewerDenied: Array<[string, string, (id: string) => string, unknown?]> = [
        ['POST /v0/endpoints', 'POST', () => '/v0/endpoints', { name: 'v', base_url: 'http://127.0.0.1:9/v' }],
        ['PUT /v0/endpoints/:id', 'PUT', (id) => `/v0/endpoints/${id}`, { name: 'v' }],
        ['DELETE /v0/endpoints/:id', 'DELETE', (id) => `/v0/endpoints/${id}`],
        ['POST /v0/endpoints/:id/test', 'POST', (id) => `/v0/endpoints/${id}/test`],
        ['POST /v0/endpoints/:id/sync', 'POST', (id) => `/v0/endpoints/${id}/sync`],
      ];
      for (const [route, method, path, json] of viewerDenied) {
        it(`viewer: ${route} → 403, nothing changes`, async () => {
          const u = await upstream({ models: ['m'] });
          const e = await create({ name: 'x', base_url: u.url() });
          const before = await snapshot();
          const requestsBefore = u.requests.length;
          expectError(await call(method, path(e.id), { as: 'viewer', json }), 403, 'forbidden');
          expectError(await call(method, path(e.id), { as: 'viewer', body: '{"name":', contentType: 'application/json' }), 403, 'forbidden');
          expect(await snapshot()).toEqual(before);
          expect(u.requests.length).toBe(requestsBefore);
        });
      }

      it('viewer: GET list and detail are allowed', async () => {
        const u = await upstream({ models: ['m'] });
        const e = await create({ name: 'x', base_url: u.url() });
        await router.checker.idle();
        const list = await call('GET', '/v0/endpoints', { as: 'viewer' });
        expect(list.status).toBe(200);
        expect(list.body).toMatchObject({ total: 1, endpoints: [{ id: e.id, model_count: 1 }] });
        expect((await call('GET', '/v0/endpoints?status=online', { as: 'viewer' })).body.total).toBe(1);
        const detail = await call('GET', `/v0/endpoints/${e.id}`, { as: 'viewer' });
        expect(detail.status).toBe(200);
        expect(detail.body).toMatchObject({ id: e.id, models: [{ model_id: 'm', capabilities: ['chat'] }] });
        expectError(await call('GET', `/v0/endpoints/${randomUUID()}`, { as: 'viewer' }), 404, 'not_found');
      });

      it('client: every /v0 route → 403', async () => {
        const e = await create({ name: 'x', base_url: 'http://127.0.0.1:9/x' });
        const requests: Array<[string, string, unknown?]> = [
          ['GET', '/v0/endpoints'],
          ['GET', '/v0/endpoints?status=online'],
          ['POST', '/v0/endpoints', { name: 'c', base_url: 'http://127.0.0.1:9/c' }],
          ['GET', `/v0/endpoints/${e.id}`],
          ['PUT', `/v0/endpoints/${e.id}`, { name: 'c' }],
          ['DELETE', `/v0/endpoints/${e.id}`],
          ['POST', `/v0/endpoints/${e.id}/test`],
          ['POST', `/v0/endpoints/${e.id}/sync`],
          ['GET', '/v0/unknown'],
        ];
        for (const [method, path, json] of requests) {
          expectError(await call(method, path, { as: 'client', json }), 403, 'forbidden');
        }
        expect((await call('GET', '/v0/endpoints')).body.endpoints.map((x: Json) => x.name)).toEqual(['x']);
      });
    });

    describe('404 not_found', () => {
      it('an unknown UUID on every :id route', async () => {
        const id = randomUUID();
        expectError(await call('GET', `/v0/endpoints/${id}`), 404, 'not_found');
        expectError(await call('PUT', `/v0/endpoints/${id}`, { json: { name: 'n' } }), 404, 'not_found');
        expectError(await call('DELETE', `/v0/endpoints/${id}`), 404, 'not_found');
        expectError(await call('POST', `/v0/endpoints/${id}/test`), 404, 'not_found');
        expectError(await call('POST', `/v0/endpoints/${id}/sync`), 404, 'not_found');
      });

      it('an id that is not a UUID (never a 500)', async () => {
        for (const id of ['not-a-uuid', '1', 'null', `${randomUUID()}x`, '%E2%82%AC', '%00', "1'%20OR%20'1'='1", 'a'.repeat(500)]) {
          expectError(await call('GET', `/v0/endpoints/${id}`), 404, 'not_found');
          expectError(await call('PUT', `/v0/endpoints/${id}`, { json: { name: 'n' } }), 404, 'not_found');
          expectError(await call('DELETE', `/v0/endpoints/${id}`), 404, 'not_found');
          expectError(await call('POST', `/v0/endpoints/${id}/test`), 404, 'not_found');
          expectError(await call('POST', `/v0/endpoints/${id}/sync`), 404, 'not_found');
        }
      });

      it('an id that is not valid percent-encoding: 404, or 400 where the host router rejects the URL first', async () => {
        // Fastify decodes URLs before any plugin runs and answers 400 FST_ERR_BAD_URL in its own
        // shape (configurable with Fastify's `frameworkErrors`); node and Express reach llmlb.
        for (const path of ['/v0/endpoints/%ZZ', '/v0/endpoints/%E0%A4%A/test']) {
          const res = await fetch(`${server.baseUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
          const text = await res.text();
          expect([400, 404]).toContain(res.status);
          expect(text).not.toMatch(STACK_LINE);
          expect(res.headers.get('content-type')).toMatch(/^application\/json/);
          if (res.status === 404) gate({ status: res.status, headers: res.headers, text, body: JSON.parse(text) });
        }
      });

      it('an unknown route under /v0', async () => {
        const e = await create({ name: 'x', base_url: 'http://127.0.0.1:9/x' });
        for (const path of ['/v0', '/v0/', '/v0/nowhere', '/v0/endpoints/x/y/z', `/v0/endpoints/${e.id}/restart`, '/v0/endpoint', '/v0/ENDPOINTS']) {
          expectError(await call('GET', path), 404, 'not_found');
          expectError(await call('POST', path, { json: {} }), 404, 'not_found');
        }
      });
    });

    describe('405 method_not_allowed', () => {
      it('answers 405 with an Allow header listing the route’s methods', async () => {
        const e = await create({ name: 'x', base_url: 'http://127.0.0.1:9/x' });
        const cases: Array<[string, string, string[]]> = [
          ['PATCH', '/v0/endpoints', ['GET', 'HEAD', 'POST']],
          ['PUT', '/v0/endpoints', ['GET', 'HEAD', 'POST']],
          ['DELETE', '/v0/endpoints', ['GET', 'HEAD', 'POST']],
          ['POST', `/v0/endpoints/${e.id}`, ['DELETE', 'GET', 'HEAD', 'PUT']],
          ['PATCH', `/v0/endpoints/${e.id}`, ['DELETE', 'GET', 'HEAD', 'PUT']],
          ['GET', `/v0/endpoints/${e.id}/test`, ['POST']],
          ['DELETE', `/v0/endpoints/${e.id}/sync`, ['POST']],
        ];
        for (const [method, path, allow] of cases) {
          const res = await call(method, path);
          expectError(res, 405, 'method_not_allowed');
          const header = res.headers.get('allow') ?? '';
          expect(header.split(',').map((m) => m.trim()).sort(), `${method} ${path}`).toEqual(allow);
        }
        expect((await call('GET', '/v0/endpoints')).body.total).toBe(1);
      });

      it('answers HEAD like GET, without a body', async () => {
        const e = await create({ name: 'x', base_url: 'http://127.0.0.1:9/x' });
        // Raw fetch: a HEAD answer has no body for the shared response checks to read.
        const head = (path: string) => fetch(`${server.baseUrl}${path}`, { method: 'HEAD', headers: { authorization: `Bearer ${KEYS.viewer}` } });
        const list = await head('/v0/endpoints');
        expect(list.status).toBe(200);
        expect(await list.text()).toBe('');
        expect((await head(`/v0/endpoints/${e.id}`)).status).toBe(200);
        expect((await head('/v0/endpoints/3f0e4c1a-0000-4000-8000-000000000000')).status).toBe(404);
      });
    });

    describe('409 conflict', () => {
      it('a duplicate name', async () => {
        await create({ name: 'gpu-1', base_url: 'http://127.0.0.1:9/one' });
        expectError(await call('POST', '/v0/endpoints', { json: { name: 'gpu-1', base_url: 'http://127.0.0.1:9/two' } }), 409, 'conflict');
        // Names are trimmed before comparing.
        expectError(await call('POST', '/v0/endpoints', { json: { name: ' gpu-1 ', base_url: 'http://127.0.0.1:9/three' } }), 409, 'conflict');
        expect((await call('GET', '/v0/endpoints')).body.total).toBe(1);
      });

      it('a duplicate URL, however it is spelled', async () => {
        const u = await upstream();
        const first = await create({ name: 'first', base_url: u.url() });
        expect(first.base_url).toBe(u.url());
        const spellings = [
          u.url(),
          `${u.url()}/`,
          `${u.url()}/v1`,
          `${u.url()}/v1/`,
          `${u.url()}//`,
          `  ${u.url()}  `,
          u.url().replace('http://', 'HTTP://'),
        ];
        for (const [i, base_url] of spellings.entries()) {
          const res = await call('POST', '/v0/endpoints', { json: { name: `dup-${i}`, base_url } });
          expectError(res, 409, 'conflict');
        }
        // The default port is the same URL too.
        await create({ name: 'p80', base_url: 'http://127.0.0.1:80/p' });
        expectError(await call('POST', '/v0/endpoints', { json: { name: 'p-default', base_url: 'http://127.0.0.1/p/' } }), 409, 'conflict');
        expect((await call('GET', '/v0/endpoints')).body.total).toBe(2);
        // A different path on the same server is a different endpoint.
        expect((await call('POST', '/v0/endpoints', { json: { name: 'other-path', base_url: u.url('/other') } })).status).toBe(201);
      });
    });

    describe('413 payload_too_large', () => {
      it('a body over 64 KiB, declared by Content-Length', async () => {
        const json = { name: 'big', base_url: 'http://127.0.0.1:9/big', notes: 'x'.repeat(70 * 1024) };
        expectError(await call('POST', '/v0/endpoints', { json }), 413, 'payload_too_large');
        const e = await create({ name: 'small', base_url: 'http://127.0.0.1:9/small' });
        expectError(await call('PUT', `/v0/endpoints/${e.id}`, { json: { notes: 'y'.repeat(70 * 1024) } }), 413, 'payload_too_large');
        // Far over the limit (and over common host body-parser limits, e.g. Express's 100 KiB).
        expectError(await call('POST', '/v0/endpoints', { json: { ...json, notes: 'z'.repeat(1024 * 1024) } }), 413, 'payload_too_large');
        expect((await call('GET', '/v0/endpoints')).body.endpoints.map((x: Json) => x.name)).toEqual(['small']);
      });

      it('a body over 64 KiB sent chunked, without Content-Length', async () => {
        const text = JSON.stringify({ name: 'big', base_url: 'http://127.0.0.1:9/big', notes: 'x'.repeat(70 * 1024) });
        const bytes = new TextEncoder().encode(text);
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.subarray(i, i + 8192));
            controller.close();
          },
        });
        expectError(await call('POST', '/v0/endpoints', { body: stream, contentType: 'application/json' }), 413, 'payload_too_large');
        expect((await call('GET', '/v0/endpoints')).body.total).toBe(0);
      });

      it('a body just under 64 KiB is read (and then validated)', async () => {
        const json = { name: 'almost', base_url: 'http://127.0.0.1:9/almost', notes: 'x'.repeat(60 * 1024) };
        const err = expectError(await call('POST', '/v0/endpoints', { json }), 400, 'validation_error');
        expect(err.details.map((d: Json) => d.path)).toEqual(['notes']);
      });
    });

    describe('415 unsupported_media_type', () => {
      it('a body that is not declared as JSON', async () => {
        const text = JSON.stringify({ name: 'a', base_url: 'http://127.0.0.1:9/a' });
        for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
          expectError(await call('POST', '/v0/endpoints', { body: text, contentType }), 415, 'unsupported_media_type');
        }
        const e = await create({ name: 'x', base_url: 'http://127.0.0.1:9/x' });
        expectError(await call('PUT', `/v0/endpoints/${e.id}`, { body: '{"notes":"n"}', contentType: 'text/plain' }), 415, 'unsupported_media_type');
        expect((await call('GET', '/v0/endpoints')).body.endpoints.map((x: Json) => x.name)).toEqual(['x']);
      });

      it('accepts application/json with a charset and +json types', async () => {
        const a = await call('POST', '/v0/endpoints', {
          body: JSON.stringify({ name: 'a', base_url: 'http://127.0.0.1:9/a' }),
          contentType: 'application/json; charset=utf-8',
        });
        expect(a.status, a.text).toBe(201);
        const b = await call('POST', '/v0/endpoints', {
          body: JSON.stringify({ name: 'b', base_url: 'http://127.0.0.1:9/b' }),
          contentType: 'application/merge-patch+json',
        });
        expect(b.status, b.text).toBe(201);
      });
    });

    // ---------------------------------------------------------------- invariants

    it('never returns the registered upstream api key, on any route or error', async () => {
      const u = await upstream({ apiKey: UPSTREAM_KEY, flavor: 'ollama', models: ['m'] });
      const e = await create({ name: 'secret', base_url: u.url(), api_key: UPSTREAM_KEY });
      await router.checker.idle();
      // Every call below passes the gate, which fails on any occurrence of the key.
      await call('GET', '/v0/endpoints');
      await call('GET', `/v0/endpoints/${e.id}`);
      await call('GET', `/v0/endpoints/${e.id}`, { as: 'viewer' });
      await call('POST', `/v0/endpoints/${e.id}/test`);
      await call('POST', `/v0/endpoints/${e.id}/sync`);
      await call('PUT', `/v0/endpoints/${e.id}`, { json: { api_key: UPSTREAM_KEY, notes: 'n' } });
      // Errors that echo input must not echo the key either.
      await call('POST', '/v0/endpoints', { json: { name: 'secret', base_url: u.url(), api_key: UPSTREAM_KEY } });
      await call('POST', '/v0/endpoints', { json: { name: 'other', base_url: 'http://127.0.0.1:9/o', api_key: `${UPSTREAM_KEY} x` } });
      await call('PUT', `/v0/endpoints/${e.id}`, { json: { api_key: `${UPSTREAM_KEY}\n` } });
      await call('POST', '/v0/endpoints', { json: { name: 'z', base_url: `http://k:${UPSTREAM_KEY}@127.0.0.1:9` } });
      await call('GET', `/v0/endpoints?status=${UPSTREAM_KEY}`);
      await call('POST', '/v0/endpoints', { body: `{"api_key":"${UPSTREAM_KEY}"`, contentType: 'application/json' });
      // The upstream now rejects the key: the error stored and shown must not contain it.
      u.apiKey = 'something-else-entirely';
      const test = await call('POST', `/v0/endpoints/${e.id}/test`);
      expect(test.body.success).toBe(false);
      expectError(await call('POST', `/v0/endpoints/${e.id}/sync`), 503, 'endpoint_offline');
      expect((await call('GET', `/v0/endpoints/${e.id}`)).body.status).toBe('error');
    });

    it('bad requests change nothing', async () => {
      const u = await upstream({ models: ['m1'] });
      const a = await create({ name: 'a', base_url: u.url('/a'), notes: 'note a' });
      const b = await create({ name: 'b', base_url: u.url('/b'), api_key: UPSTREAM_KEY });
      const before = await snapshot();
      const bad: Array<[string, string, CallOptions]> = [
        ['POST', '/v0/endpoints', { json: { name: 'a', base_url: u.url('/c') } }],
        ['POST', '/v0/endpoints', { json: { name: 'c', base_url: `${u.url('/a')}/v1` } }],
        ['POST', '/v0/endpoints', { json: { name: 'c', base_url: u.url('/c'), health_check_interval_secs: 5 } }],
        ['POST', '/v0/endpoints', { json: { name: 'c', base_url: u.url('/c'), extra: true } }],
        ['POST', '/v0/endpoints', { body: '{"name":"c"', contentType: 'application/json' }],
        ['POST', '/v0/endpoints', { body: '{"name":"c","base_url":"http://127.0.0.1:9/c"}', contentType: 'text/plain' }],
        ['POST', '/v0/endpoints', { json: { name: 'c', base_url: u.url('/c'), notes: 'x'.repeat(70 * 1024) } }],
        ['POST', '/v0/endpoints', { json: { name: 'c', base_url: u.url('/c') }, as: 'viewer' }],
        ['POST', '/v0/endpoints', { json: { name: 'c', base_url: u.url('/c') }, as: null }],
        ['PUT', `/v0/endpoints/${a.id}`, { json: { name: 'b' } }],
        ['PUT', `/v0/endpoints/${a.id}`, { json: { name: 'renamed', base_url: u.url('/z') } }],
        ['PUT', `/v0/endpoints/${a.id}`, { json: { name: 'renamed', health_check_interval_secs: 5 } }],
        ['PUT', `/v0/endpoints/${a.id}`, { json: { notes: null, api_key: '' } }],
        ['PUT', `/v0/endpoints/${b.id}`, { json: { api_key: null, unknown: 1 } }],
        ['PUT', `/v0/endpoints/${b.id}`, { json: { api_key: null }, as: 'viewer' }],
        ['PUT', `/v0/endpoints/${b.id}`, { json: { api_key: null }, as: 'client' }],
        ['DELETE', `/v0/endpoints/${a.id}`, { as: 'viewer' }],
        ['DELETE', `/v0/endpoints/${randomUUID()}`, {}],
        ['PATCH', `/v0/endpoints/${a.id}`, { json: { name: 'patched' } }],
        ['POST', `/v0/endpoints/${a.id}`, { json: { name: 'posted' } }],
      ];
      for (const [method, path, options] of bad) {
        const res = await call(method, path, options);
        expect(res.status, `${method} ${path} ${res.text}`).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }
      expect(await snapshot()).toEqual(before);
    });

    it('answers JSON with Content-Type and Content-Length on success', async () => {
      const res = await fetch(`${server.baseUrl}/v0/endpoints`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const text = await res.text();
      expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(text));
    });

    // ---------------------------------------------------------------- mounting

    it('leaves paths outside /v0 and /v1 to the host', async () => {
      if (server.hostRoute) {
        const res = await fetch(server.hostRoute.url);
        expect(res.status).toBe(200);
        expect(await res.text()).toBe(server.hostRoute.body);
      } else {
        // Plain node: llmlb owns the whole server and answers JSON 404 elsewhere.
        const res = await fetch(`${server.origin}/health`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
        const text = await res.text();
        expect(res.status).toBe(404);
        expect(JSON.parse(text)).toMatchObject({ error: { code: 'not_found' } });
      }
      // Paths that merely start with v0/v1 are not llmlb's either.
      const other = await fetch(`${server.baseUrl}/v0x/endpoints`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      await other.text();
      expect(other.status).toBe(404);
    });
  });
}
