/**
 * Static model lists end to end, with real fake upstreams on 127.0.0.1: an endpoint that cannot
 * list its models is healthy when it answers, serves exactly its static list through checks,
 * connection tests and syncs, and goes back to discovery with `models: null`.
 */
import { describe, expect, it } from 'vitest';
import { useFixtures } from '../helpers/llmlb-server.js';

const { upstream, llmlb, register } = useFixtures();

const STATIC = ['my-finetune', { model_id: 'my-embedder', capabilities: ['embeddings'] }];

describe('an endpoint with a static model list', () => {
  it('is online when GET /v1/models answers 404, serves its list and routes requests to it', async () => {
    const u = await upstream({ models: ['ignored'] });
    u.forceStatus = 404;
    const s = await llmlb();
    const id = await register(s, u, { models: STATIC });
    const detail = await s.admin('GET', `/v0/endpoints/${id}`);
    expect(detail.body).toMatchObject({ status: 'online', error_count: 0, static_models: [{ model_id: 'my-finetune' }, { model_id: 'my-embedder', capabilities: ['embeddings'] }] });
    expect(detail.body.models.map((m: { model_id: string; capabilities: string[]; capabilities_source: string }) => [m.model_id, m.capabilities, m.capabilities_source])).toEqual([
      ['my-embedder', ['embeddings'], 'backend'],
      ['my-finetune', ['chat'], 'name'],
    ]);
    expect((await s.infer('/v1/chat/completions', { model: 'my-finetune', messages: [] })).status).toBe(200);
    expect((await s.infer('/v1/embeddings', { model: 'my-embedder', input: 'x' })).status).toBe(200);
    expect((await s.infer('/v1/chat/completions', { model: 'ignored', messages: [] })).status).toBe(404);
  });

  it('keeps its list through checks, connection tests and syncs of a server that lists other models', async () => {
    const u = await upstream({ models: ['listed-a', 'listed-b'] });
    const s = await llmlb();
    const id = await register(s, u, { models: ['only-this'] });
    const test = await s.admin('POST', `/v0/endpoints/${id}/test`);
    expect(test.body).toMatchObject({ success: true, endpoint_info: { model_count: 1 } });
    const sync = await s.admin('POST', `/v0/endpoints/${id}/sync`);
    expect(sync.body).toEqual({ synced_models: [{ model_id: 'only-this', capabilities: ['chat'] }], added: 0, removed: 0, updated: 1 });
    await s.router.checker.check(id);
    expect(s.router.models.list().map((m) => m.id)).toEqual(['only-this']);
    expect(u.requestsTo('/v1/models').length).toBeGreaterThanOrEqual(3);
  });

  it('still fails its checks on a 5xx, a refused credential or a stopped server', async () => {
    const s = await llmlb();
    const broken = await upstream({ name: 'broken' });
    broken.forceStatus = 500;
    const keyed = await upstream({ name: 'keyed', apiKey: 'sk-right-key-0123' });
    const stopped = await upstream({ name: 'stopped' });
    const ids = [
      await register(s, broken, { models: ['m1'] }),
      await register(s, keyed, { models: ['m2'], api_key: 'sk-wrong-key-0123' }),
    ];
    await stopped.stop();
    ids.push(await register(s, stopped, { models: ['m3'] }));
    const kinds = [];
    for (const id of ids) {
      const test = await s.admin('POST', `/v0/endpoints/${id}/test`);
      expect(test.body.success).toBe(false);
      kinds.push(test.body.error_kind);
    }
    expect(kinds).toEqual(['http_status', 'unauthorized', 'connection_refused']);
    const sync = await s.admin('POST', `/v0/endpoints/${ids[0]}/sync`);
    expect(sync.status).toBe(503);
  });

  it('takes a new list at once with PUT, and goes back to discovery with models: null', async () => {
    const u = await upstream({ models: ['discovered-1', 'discovered-2'] });
    const s = await llmlb();
    const id = await register(s, u, { models: ['first'] });
    const replaced = await s.admin('PUT', `/v0/endpoints/${id}`, { models: ['second', { model_id: 'third', capabilities: ['chat', 'vision'] }] });
    expect(replaced.status).toBe(200);
    expect(replaced.body.static_models).toEqual([{ model_id: 'second' }, { model_id: 'third', capabilities: ['chat', 'vision'] }]);
    expect((await s.router.endpoints.get(id)).models.map((m) => [m.model_id, m.capabilities])).toEqual([
      ['second', ['chat']],
      ['third', ['chat', 'vision']],
    ]);
    const probes = u.requestsTo('/v1/models').length;
    const back = await s.admin('PUT', `/v0/endpoints/${id}`, { models: null });
    expect(back.body.static_models).toBeNull();
    // The switch triggers a check at once, which discovers the server's models.
    await s.router.checker.idle();
    expect(u.requestsTo('/v1/models').length).toBe(probes + 1);
    expect((await s.router.endpoints.get(id)).models.map((m) => m.model_id)).toEqual(['discovered-1', 'discovered-2']);
    // A static list again: the model set follows at once, the server's list is ignored.
    await s.admin('PUT', `/v0/endpoints/${id}`, { models: ['fourth'] });
    await s.router.checker.idle();
    expect((await s.router.endpoints.get(id)).models.map((m) => m.model_id)).toEqual(['fourth']);
  });

  it('refuses bad lists with validation errors naming the entry', async () => {
    const s = await llmlb();
    const cases: [unknown, string][] = [
      [[], 'models'],
      [['a', 'a'], 'models'],
      [[''], 'models.0'],
      [[{ model_id: 'x', capabilities: [] }], 'models.0'],
      [[{ model_id: 'x', capabilities: ['Chat!'] }], 'models.0'],
      [[{ id: 'x' }], 'models.0'],
      ['a', 'models'],
    ];
    for (const [models, path] of cases) {
      const res = await s.admin('POST', '/v0/endpoints', { name: 'bad', base_url: 'http://127.0.0.1:9', models });
      expect(res.status, JSON.stringify(models)).toBe(400);
      expect(res.body.error.details.map((d: { path: string }) => d.path).some((p: string) => p.startsWith(path)), JSON.stringify(res.body)).toBe(true);
    }
    expect((await s.admin('GET', '/v0/endpoints')).body.total).toBe(0);
  });
});
