/**
 * The `/v0/aliases` part of the admin API contract (docs/api.md), registered inside
 * `runAdminApiContract` so it runs unchanged against every HTTP adapter. Every response already
 * went through the contract's checked client (no secret, no stack, the error shape).
 */
import { describe, expect, it } from 'vitest';
import type { Router } from '../../src/router.js';
import type { FakeUpstream, FakeUpstreamOptions } from '../helpers/fake-upstream.js';
import { type ApiResponse, type CallOptions, type Json, expectError } from './client.js';

/** What the alias cases use of the contract's per-test fixture. */
export interface AliasContractContext {
  call(method: string, path: string, options?: CallOptions): Promise<ApiResponse>;
  upstream(options?: FakeUpstreamOptions): Promise<FakeUpstream>;
  router(): Router;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Registers the alias cases.
 *
 * @example
 * aliasContractCases({ call, upstream, router: () => router });
 */
export function aliasContractCases({ call, upstream, router }: AliasContractContext): void {
  /** The alias list as the API shows it now. */
  const listed = async (): Promise<Json> => (await call('GET', '/v0/aliases')).body;

  describe('/v0/aliases', () => {
    it('201/200/204: create, list, get (a name with /), update and delete', async () => {
      const created = await call('POST', '/v0/aliases', { json: { name: 'org/llama3.1', targets: ['llama3.1:8b', 'meta-llama/Llama-3.1-8B-Instruct'] } });
      expect(created.status, created.text).toBe(201);
      expect(Object.keys(created.body).sort()).toEqual(['created_at', 'name', 'targets', 'updated_at']);
      expect(created.body).toMatchObject({ name: 'org/llama3.1', targets: ['llama3.1:8b', 'meta-llama/Llama-3.1-8B-Instruct'] });
      expect(created.body.created_at).toMatch(ISO);
      expect((await call('GET', '/v0/aliases/org/llama3.1')).body).toEqual(created.body);
      expect((await call('GET', '/v0/aliases/org%2Fllama3.1', { as: 'viewer' })).body).toEqual(created.body);
      expect(await listed()).toEqual({ aliases: [created.body], total: 1 });
      const updated = await call('PUT', '/v0/aliases/org/llama3.1', { json: { targets: ['llama3.1:8b'] } });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({ name: 'org/llama3.1', targets: ['llama3.1:8b'], created_at: created.body.created_at });
      const deleted = await call('DELETE', '/v0/aliases/org/llama3.1');
      expect([deleted.status, deleted.text]).toEqual([204, '']);
      expectError(await call('GET', '/v0/aliases/org/llama3.1'), 404, 'not_found');
      expect(await listed()).toEqual({ aliases: [], total: 0 });
    });

    it('404 for an unknown alias on every method; 409 for a taken name; nothing changes', async () => {
      await call('POST', '/v0/aliases', { json: { name: 'a', targets: ['x'] } });
      const before = await listed();
      expectError(await call('GET', '/v0/aliases/none'), 404, 'not_found');
      expectError(await call('PUT', '/v0/aliases/none', { json: { targets: ['x'] } }), 404, 'not_found');
      expectError(await call('DELETE', '/v0/aliases/none'), 404, 'not_found');
      const taken = expectError(await call('POST', '/v0/aliases', { json: { name: 'a', targets: ['y'] } }), 409, 'conflict');
      expect(taken.details).toEqual([{ path: 'name', message: 'already taken' }]);
      expect(await listed()).toEqual(before);
    });

    it('409 for a name an endpoint serves, unless the targets include it', async () => {
      const u = await upstream({ models: ['served-model'] });
      const e = await call('POST', '/v0/endpoints', { json: { name: 'served', base_url: u.url() } });
      expect(e.status).toBe(201);
      await router().checker.idle();
      expectError(await call('POST', '/v0/aliases', { json: { name: 'served-model', targets: ['other'] } }), 409, 'conflict');
      expect((await call('POST', '/v0/aliases', { json: { name: 'served-model', targets: ['other', 'served-model'] } })).status).toBe(201);
      expectError(await call('PUT', '/v0/aliases/served-model', { json: { targets: ['other'] } }), 409, 'conflict');
      expect((await call('GET', '/v0/aliases/served-model')).body.targets).toEqual(['other', 'served-model']);
    });

    it('400 validation_error naming the fields; nothing changes', async () => {
      await call('POST', '/v0/aliases', { json: { name: 'keep', targets: ['x'] } });
      const before = await listed();
      const creates: Array<[unknown, string[]]> = [
        [{}, ['name', 'targets']],
        [{ name: '', targets: ['x'] }, ['name']],
        [{ name: 'a', targets: [] }, ['targets']],
        [{ name: 'a', targets: ['x', 'x'] }, ['targets']],
        [{ name: 'a//b', targets: ['x'] }, ['name']],
        [{ name: 'a', targets: [5] }, ['targets.0']],
        [{ name: 'a', targets: ['x'], notes: 'n' }, ['notes']],
        [[], ['']],
      ];
      for (const [json, paths] of creates) {
        const err = expectError(await call('POST', '/v0/aliases', { json }), 400, 'validation_error');
        expect([...new Set(err.details.map((d: Json) => d.path))], JSON.stringify(json)).toEqual(paths);
      }
      expectError(await call('PUT', '/v0/aliases/keep', { json: { name: 'renamed', targets: ['y'] } }), 400, 'validation_error');
      expectError(await call('PUT', '/v0/aliases/keep', { json: {} }), 400, 'validation_error');
      expectError(await call('POST', '/v0/aliases', { body: '{"name":', contentType: 'application/json' }), 400, 'invalid_request');
      expect(await listed()).toEqual(before);
    });

    it('403 for writes by viewers and for clients; 401 without a key', async () => {
      expectError(await call('POST', '/v0/aliases', { as: 'viewer', json: { name: 'v', targets: ['x'] } }), 403, 'forbidden');
      expectError(await call('GET', '/v0/aliases', { as: 'client' }), 403, 'forbidden');
      expectError(await call('DELETE', '/v0/aliases/v', { as: 'viewer' }), 403, 'forbidden');
      expectError(await call('GET', '/v0/aliases', { as: null }), 401, 'unauthorized');
      expect(await listed()).toEqual({ aliases: [], total: 0 });
    });
  });
}
