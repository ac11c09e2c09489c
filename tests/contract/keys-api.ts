/**
 * The `/v0/keys` admin API contract (docs/keys.md), registered inside the admin API contract so
 * it runs unchanged against every HTTP adapter: shapes, roles, the secret shown once, configured
 * keys read-only, revocation final and effective at once, every error in the documented shape.
 */
import { describe, expect, it } from 'vitest';
import { type ApiResponse, type CallOptions, type Json, expectError } from './client.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KEY_FIELDS = [
  'id',
  'name',
  'role',
  'prefix',
  'source',
  'state',
  'enabled',
  'one_use',
  'expires_at',
  'limits',
  'created_at',
  'updated_at',
  'consumed_at',
  'revoked_at',
].sort();
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

/** How the key cases call the server under test (every response is checked by the contract's gate). */
export type ContractCall = (method: string, path: string, options?: CallOptions) => Promise<ApiResponse>;

function expectKeyShape(key: Json): void {
  expect(Object.keys(key).sort()).toEqual(KEY_FIELDS);
  expect(Object.keys(key.limits).sort()).toEqual(['max_concurrency', 'models', 'requests_per_minute']);
  expect(key).not.toHaveProperty('secret');
  expect(key).not.toHaveProperty('digest');
}

/** Registers the `/v0/keys` cases; `call` talks to the server of the current case. */
export function keysApiCases(call: ContractCall): void {
  /** Creates a key and returns the create answer (with its secret). */
  async function create(json: Record<string, unknown>): Promise<Json> {
    const res = await call('POST', '/v0/keys', { json });
    expect(res.status, res.text).toBe(201);
    return res.body;
  }

  describe('/v0/keys', () => {
    it('201: the created key with its secret, shown this once; 200: get and list without it', async () => {
      const created = await create({ name: ' team-a ', role: 'client', limits: { requests_per_minute: 600, models: ['llama3.1:8b'] } });
      const { secret, ...key } = created;
      expectKeyShape(key);
      expect(secret).toMatch(/^llmlb_/);
      expect(key).toMatchObject({ name: 'team-a', role: 'client', source: 'runtime', state: 'active', enabled: true, one_use: false, expires_at: null, prefix: secret.slice(0, 14) });
      expect(key.id).toMatch(UUID);
      expect(key.limits).toEqual({ requests_per_minute: 600, max_concurrency: null, models: ['llama3.1:8b'] });

      const got = await call('GET', `/v0/keys/${key.id}`);
      expect([got.status, got.body]).toEqual([200, key]);
      const list = await call('GET', '/v0/keys');
      expect(list.status).toBe(200);
      expect(list.body.total).toBe(list.body.keys.length);
      for (const k of list.body.keys) expectKeyShape(k);
      expect(list.body.keys.filter((k: Json) => k.source === 'config').map((k: Json) => k.role).sort()).toEqual(['admin', 'client', 'viewer']);
      expect(list.body.keys.at(-1)).toEqual(key);
      for (const res of [got, list]) expect(res.text).not.toContain(secret);
    });

    it('the new key authenticates at once; 200 PUT changes it; 204 DELETE revokes it for the next request', async () => {
      const { secret, id } = await create({ name: 'svc', role: 'viewer' });
      expect((await call('GET', '/v0/me', { as: { key: secret } })).body).toEqual({ role: 'viewer', name: 'svc', key_id: id });
      const updated = await call('PUT', `/v0/keys/${id}`, { json: { name: 'svc-2', role: 'client', limits: { max_concurrency: 4 } } });
      expect(updated.status).toBe(200);
      expectKeyShape(updated.body);
      expect(updated.body).toMatchObject({ name: 'svc-2', role: 'client', limits: { max_concurrency: 4 } });
      expect((await call('GET', '/v0/me', { as: { key: secret } })).body.role).toBe('client');
      expectError(await call('GET', '/v0/endpoints', { as: { key: secret } }), 403, 'forbidden');

      const revoked = await call('DELETE', `/v0/keys/${id}`);
      expect([revoked.status, revoked.text]).toEqual([204, '']);
      expectError(await call('GET', '/v0/me', { as: { key: secret } }), 401, 'unauthorized');
      expect((await call('GET', `/v0/keys/${id}`)).body).toMatchObject({ state: 'revoked' });
      expectError(await call('PUT', `/v0/keys/${id}`, { json: { enabled: true } }), 409, 'conflict');
    });

    it('200: usage of a key, with totals', async () => {
      const { id } = await create({ name: 'u', role: 'client' });
      const res = await call('GET', `/v0/keys/${id}/usage?from=2026-01-01T00:00:00.000Z&to=2026-01-02T00:00:00.000Z`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ key_id: id, from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z', usage: [], totals: { requests: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0 } });
    });

    it('400: validation errors name the offending fields', async () => {
      const cases: [Record<string, unknown>, string[]][] = [
        [{}, ['name', 'role']],
        [{ name: 'x', role: 'root' }, ['role']],
        [{ name: 'x', role: 'client', one_use: true }, ['one_use']],
        [{ name: 'x', role: 'client', expires_at: 'soon' }, ['expires_at']],
        [{ name: 'x', role: 'client', expires_at: '2020-01-01T00:00:00.000Z' }, ['expires_at']],
        [{ name: 'x', role: 'client', limits: { requests_per_minute: 0, models: [] } }, ['limits.requests_per_minute', 'limits.models']],
        [{ name: 'x', role: 'client', secret: 'mine' }, ['secret']],
      ];
      for (const [json, paths] of cases) {
        const error = expectError(await call('POST', '/v0/keys', { json }), 400, 'validation_error');
        expect([...new Set(error.details.map((d: Json) => d.path))], JSON.stringify(json)).toEqual(paths);
      }
      const { id } = await create({ name: 'v', role: 'client' });
      expectError(await call('PUT', `/v0/keys/${id}`, { json: {} }), 400, 'validation_error');
      expectError(await call('PUT', `/v0/keys/${id}`, { json: { one_use: true } }), 400, 'validation_error');
      expectError(await call('POST', '/v0/keys', { body: '{"name":', contentType: 'application/json' }), 400, 'invalid_request');
      expect((await call('GET', '/v0/keys')).body.total).toBe(4);
    });

    it('403: configured keys are read-only; 404: unknown ids on every :id route', async () => {
      const configured = (await call('GET', '/v0/keys')).body.keys.find((k: Json) => k.source === 'config');
      expectError(await call('PUT', `/v0/keys/${configured.id}`, { json: { name: 'x' } }), 403, 'forbidden');
      expectError(await call('DELETE', `/v0/keys/${configured.id}`), 403, 'forbidden');
      for (const [method, suffix] of [['GET', ''], ['PUT', ''], ['DELETE', ''], ['GET', '/usage']] as const) {
        const options = method === 'PUT' ? { json: { name: 'x' } } : {};
        expectError(await call(method, `/v0/keys/${UNKNOWN_ID}${suffix}`, options), 404, 'not_found');
      }
    });

    it('403 for viewer and client keys on every /v0/keys route; 405 with Allow for other methods', async () => {
      const { id } = await create({ name: 'w', role: 'client' });
      for (const as of ['viewer', 'client'] as const) {
        for (const [method, path] of [['GET', '/v0/keys'], ['POST', '/v0/keys'], ['GET', `/v0/keys/${id}`], ['PUT', `/v0/keys/${id}`], ['DELETE', `/v0/keys/${id}`], ['GET', `/v0/keys/${id}/usage`]] as const) {
          const options = method === 'GET' || method === 'DELETE' ? { as } : { as, json: { name: 'hijack', role: 'admin' } };
          expectError(await call(method, path, options), 403, 'forbidden');
        }
      }
      const res = await call('PATCH', '/v0/keys');
      expectError(res, 405, 'method_not_allowed');
      expect(res.headers.get('allow')?.split(/,\s*/).sort()).toEqual(['GET', 'HEAD', 'POST']);
      expect((await call('GET', `/v0/keys/${id}`)).body.name).toBe('w');
    });
  });
}
