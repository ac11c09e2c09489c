/**
 * Admin state, the read routes and credential changes, end to end: a router behind node:http on
 * 127.0.0.1 with real fake upstreams.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { gateChat } from '../helpers/fake-upstream.js';
import { CLIENT_KEY, type LlmlbServer, VIEWER_KEY, until, useFixtures } from '../helpers/llmlb-server.js';

const { upstream, llmlb, register } = useFixtures();

const chat = { model: 'llama3.1:8b', messages: [{ role: 'user', content: 'hi' }] };

async function get(s: LlmlbServer, path: string, key: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: await res.json() };
}

describe('admin_state', () => {
  it('a disabled endpoint takes no new requests but is still checked; enabling it brings it back', async () => {
    const a = await upstream({ name: 'a' });
    const b = await upstream({ name: 'b' });
    const clock = new FakeClock();
    const s = await llmlb({ clock });
    const aId = await register(s, a);
    await register(s, b);

    const put = await s.admin('PUT', `/v0/endpoints/${aId}`, { admin_state: 'disabled' });
    expect(put.status).toBe(200);
    expect(put.body.admin_state).toBe('disabled');
    for (let i = 0; i < 6; i++) expect((await s.infer('/v1/chat/completions', chat)).status).toBe(200);
    expect(a.requestsTo('/v1/chat/completions')).toHaveLength(0);
    expect(b.requestsTo('/v1/chat/completions')).toHaveLength(6);

    // Still checked on its interval: the dashboard stays true.
    const probes = a.requestsTo('/v1/models').length;
    await clock.advance(30_000);
    await s.router.checker.idle();
    expect(a.requestsTo('/v1/models').length).toBe(probes + 1);
    expect((await s.admin('GET', `/v0/endpoints?admin_state=disabled`)).body.total).toBe(1);

    await s.admin('PUT', `/v0/endpoints/${aId}`, { admin_state: 'enabled' });
    // It takes requests again. (One at a time, equal estimates would go to whichever endpoint's
    // last check was quicker: with a request held at b, the next one goes to a in any case.)
    const held = gateChat(b);
    const pending = [s.infer('/v1/chat/completions', chat), s.infer('/v1/chat/completions', chat)];
    await until(() => a.requestsTo('/v1/chat/completions').length > 0);
    held.open();
    expect((await Promise.all(pending)).map((r) => r.status)).toEqual([200, 200]);
  });

  it('with every endpoint disabled the model is listed unavailable and requests get 503', async () => {
    const a = await upstream({ name: 'a' });
    const s = await llmlb();
    const id = await register(s, a);
    await s.admin('PUT', `/v0/endpoints/${id}`, { admin_state: 'pending_approval' });
    const res = await s.infer('/v1/chat/completions', chat);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('no_available_endpoint');
    const models = await get(s, '/v1/models', CLIENT_KEY);
    expect(models.body.data[0]).toMatchObject({ id: 'llama3.1:8b', available: false });
  });

  it('a request in flight on an endpoint that gets disabled finishes', async () => {
    const a = await upstream({ name: 'a' });
    a.inferenceDelayMs = 300;
    const s = await llmlb();
    const id = await register(s, a);
    const pending = s.infer('/v1/chat/completions', chat);
    await until(() => a.inFlight === 1);
    await s.admin('PUT', `/v0/endpoints/${id}`, { admin_state: 'disabled' });
    expect((await pending).status).toBe(200);
  });
});

describe('read routes', () => {
  it('pages the health-check history newest first, for viewers, not clients', async () => {
    const a = await upstream({ name: 'a' });
    const clock = new FakeClock();
    const s = await llmlb({ clock });
    const id = await register(s, a);
    for (let i = 0; i < 4; i++) {
      await clock.advance(30_000);
      await s.router.checker.idle();
    }
    const first = await get(s, `/v0/endpoints/${id}/health-checks?limit=3`, VIEWER_KEY);
    expect(first.status).toBe(200);
    expect(first.body.health_checks).toHaveLength(3);
    const times = first.body.health_checks.map((h: { checked_at: string }) => h.checked_at);
    expect([...times].sort().reverse()).toEqual(times);
    expect(first.body.next_before).toBe(times[2]);
    const second = await get(s, `/v0/endpoints/${id}/health-checks?limit=3&before=${first.body.next_before}`, VIEWER_KEY);
    expect(second.body.health_checks).toHaveLength(2);
    expect(second.body.next_before).toBeNull();
    expect(second.body.health_checks[0].checked_at < times[2]).toBe(true);

    expect((await get(s, `/v0/endpoints/${id}/health-checks`, CLIENT_KEY)).status).toBe(403);
    const bad = await get(s, `/v0/endpoints/${id}/health-checks?limit=0&before=yesterday`, VIEWER_KEY);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['before', 'limit']);
  });

  it('lists models with their endpoints, and live stats per endpoint', async () => {
    const a = await upstream({ name: 'a', models: ['llama3.1:8b', 'org/model'] });
    const s = await llmlb();
    const id = await register(s, a);
    await s.infer('/v1/chat/completions', chat);
    const models = await get(s, '/v0/models', VIEWER_KEY);
    expect(models.body.total).toBe(2);
    expect(models.body.models[0]).toEqual({
      id: 'llama3.1:8b',
      available: true,
      capabilities: ['chat'],
      context_length: null,
      loaded: null,
      created: expect.any(Number),
      endpoints: [{ id, name: 'a', status: 'online', admin_state: 'enabled', type: 'openai-compatible', context_length: null, loaded: null }],
    });
    expect((await get(s, '/v0/models/org/model', VIEWER_KEY)).body.id).toBe('org/model');
    expect((await get(s, '/v0/models/nope', VIEWER_KEY)).status).toBe(404);

    const stats = await get(s, `/v0/endpoints/${id}/stats`, VIEWER_KEY);
    expect(stats.body).toEqual({ endpoint_id: id, in_flight: 0, latency_ms: expect.any(Number), recent_failures: 0, suspended_until: null, upstream: null });
    expect((await get(s, '/v0/stats', VIEWER_KEY)).body.stats).toEqual([stats.body]);
  });
});

describe('credentials', () => {
  it('a new api_key is checked at once: the endpoint goes from error to online without waiting for its interval', async () => {
    const a = await upstream({ name: 'a', apiKey: 'sk-right' });
    const s = await llmlb({ clock: new FakeClock() });
    const id = await register(s, a, { api_key: 'sk-wrong' });
    expect((await s.admin('GET', `/v0/endpoints/${id}`)).body.status).toBe('error');
    await s.admin('PUT', `/v0/endpoints/${id}`, { api_key: 'sk-right' });
    await s.router.checker.idle();
    const detail = (await s.admin('GET', `/v0/endpoints/${id}`)).body;
    expect(detail).toMatchObject({ status: 'online', last_error: null, error_count: 0 });
    // The history keeps the error that the success cleared.
    const history = (await s.admin('GET', `/v0/endpoints/${id}/health-checks`)).body.health_checks;
    expect(history.map((h: { success: boolean }) => h.success)).toEqual([true, false]);
  });
});
