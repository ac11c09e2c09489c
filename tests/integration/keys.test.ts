/**
 * Runtime API keys over HTTP: created, changed and revoked while the router runs, with access
 * changing on the very next request; configured keys listed read-only; how runtime keys combine
 * with `auth: false` and an auth function; one-use registration tokens.
 */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { routerInternals } from '../../src/internals.js';
import { bodyOf, callWith, chatWith, createKey } from '../helpers/keys.js';
import { ADMIN_KEY, CLIENT_KEY, useFixtures } from '../helpers/llmlb-server.js';

const { upstream, llmlb, register } = useFixtures();
const MODEL = 'llama3.1:8b';

describe('runtime keys', () => {
  it('a created client key works at once; the secret is in the create answer only', async () => {
    const s = await llmlb();
    await register(s, await upstream());
    const key = await createKey(s, { name: 'team-a', role: 'client' });
    expect(key.secret).toMatch(/^llmlb_[A-Za-z0-9_-]{43}$/);
    expect(key.prefix).toBe(key.secret.slice(0, 14));
    expect(key).toMatchObject({ name: 'team-a', role: 'client', source: 'runtime', state: 'active', enabled: true, revoked_at: null });

    const answer = await chatWith(s, key.secret, MODEL);
    expect(answer.status).toBe(200);
    const me = await bodyOf(await callWith(s, key.secret, 'GET', '/v0/me'));
    expect(me).toEqual({ role: 'client', name: 'team-a', key_id: key.id });

    const list = await s.admin('GET', '/v0/keys');
    const got = await s.admin('GET', `/v0/keys/${key.id}`);
    for (const text of [JSON.stringify(list.body), JSON.stringify(got.body)]) expect(text).not.toContain(key.secret);
    expect(got.body).not.toHaveProperty('secret');
    expect(got.body).not.toHaveProperty('digest');
    expect(list.body.keys.map((k: { id: string }) => k.id)).toContain(key.id);
  });

  it('revoking takes effect on the next request; a revoked key cannot be changed', async () => {
    const s = await llmlb();
    await register(s, await upstream());
    const key = await createKey(s, { name: 'leaked', role: 'client' });
    expect((await chatWith(s, key.secret, MODEL)).status).toBe(200);

    expect((await s.admin('DELETE', `/v0/keys/${key.id}`)).status).toBe(204);
    const refused = await chatWith(s, key.secret, MODEL);
    expect(refused.status).toBe(401);
    expect((await bodyOf(refused)).error.type).toBe('authentication_error');
    expect((await s.admin('GET', `/v0/keys/${key.id}`)).body).toMatchObject({ state: 'revoked', revoked_at: expect.any(String) });
    // Revoking again changes nothing; changing a revoked key is a conflict.
    expect((await s.admin('DELETE', `/v0/keys/${key.id}`)).status).toBe(204);
    const update = await s.admin('PUT', `/v0/keys/${key.id}`, { enabled: true });
    expect([update.status, update.body.error.code]).toEqual([409, 'conflict']);
    expect((await chatWith(s, key.secret, MODEL)).status).toBe(401);
  });

  it('disabling, re-enabling, expiring and changing the role apply at once', async () => {
    const s = await llmlb();
    await register(s, await upstream());
    const key = await createKey(s, { name: 'ops', role: 'viewer' });
    expect((await callWith(s, key.secret, 'GET', '/v0/endpoints')).status).toBe(200);
    expect((await chatWith(s, key.secret, MODEL)).status).toBe(403);

    expect((await s.admin('PUT', `/v0/keys/${key.id}`, { role: 'client' })).body.role).toBe('client');
    expect((await chatWith(s, key.secret, MODEL)).status).toBe(200);
    expect((await callWith(s, key.secret, 'GET', '/v0/endpoints')).status).toBe(403);

    expect((await s.admin('PUT', `/v0/keys/${key.id}`, { enabled: false })).body.state).toBe('disabled');
    expect((await chatWith(s, key.secret, MODEL)).status).toBe(401);
    expect((await s.admin('PUT', `/v0/keys/${key.id}`, { enabled: true })).body.state).toBe('active');
    expect((await chatWith(s, key.secret, MODEL)).status).toBe(200);

    const past = new Date(Date.now() - 1000).toISOString();
    expect((await s.admin('PUT', `/v0/keys/${key.id}`, { expires_at: past })).body.state).toBe('expired');
    expect((await chatWith(s, key.secret, MODEL)).status).toBe(401);
    expect((await s.admin('PUT', `/v0/keys/${key.id}`, { expires_at: null })).body.state).toBe('active');
    expect((await chatWith(s, key.secret, MODEL)).status).toBe(200);
    // Any ISO-8601 UTC spelling is stored in the form every other time has.
    expect((await s.admin('PUT', `/v0/keys/${key.id}`, { expires_at: '2099-01-01T00:00:00Z' })).body.expires_at).toBe('2099-01-01T00:00:00.000Z');
  });

  it('a key expires by the clock, without any write', async () => {
    let ahead = 0;
    const s = await llmlb({ clock: { ...systemClock, now: () => Date.now() + ahead } });
    const key = await createKey(s, { name: 'short', role: 'viewer', expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    expect((await callWith(s, key.secret, 'GET', '/v0/me')).status).toBe(200);
    ahead = 3_600_001;
    expect((await callWith(s, key.secret, 'GET', '/v0/me')).status).toBe(401);
    expect((await s.admin('GET', `/v0/keys/${key.id}`)).body.state).toBe('expired');
  });

  it('configured keys are listed read-only: no secret, not updatable, not revocable', async () => {
    const s = await llmlb();
    const list = await s.admin('GET', '/v0/keys');
    expect(list.status).toBe(200);
    const configured = list.body.keys.filter((k: { source: string }) => k.source === 'config');
    expect(configured.map((k: { role: string }) => k.role).sort()).toEqual(['admin', 'client', 'node', 'viewer']);
    for (const k of configured) {
      expect(k.id).toMatch(/^cfg_[0-9a-f]{16}$/);
      expect(k.prefix).toBeNull();
    }
    expect(JSON.stringify(list.body)).not.toContain(ADMIN_KEY);
    const me = await bodyOf(await callWith(s, CLIENT_KEY, 'GET', '/v0/me'));
    const client = configured.find((k: { role: string }) => k.role === 'client');
    expect(me.key_id).toBe(client.id);
    const update = await s.admin('PUT', `/v0/keys/${client.id}`, { name: 'renamed' });
    expect([update.status, update.body.error.code]).toEqual([403, 'forbidden']);
    expect(update.body.error.message).toMatch(/configured .*read-only/);
    const revoke = await s.admin('DELETE', `/v0/keys/${client.id}`);
    expect(revoke.status).toBe(403);
    expect((await callWith(s, CLIENT_KEY, 'GET', '/v1/models')).status).toBe(200);
  });

  it('only admins manage keys', async () => {
    const s = await llmlb();
    const viewer = await createKey(s, { name: 'v', role: 'viewer' });
    for (const [method, path] of [['GET', '/v0/keys'], ['POST', '/v0/keys'], ['GET', `/v0/keys/${viewer.id}/usage`]] as const) {
      const res = await callWith(s, viewer.secret, method, path, method === 'POST' ? { name: 'x', role: 'admin' } : undefined);
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    expect((await s.admin('GET', '/v0/keys')).body.total).toBe(5); // four configured keys, one runtime key
  });

  it('a runtime admin key can create further keys', async () => {
    const s = await llmlb();
    const admin = await createKey(s, { name: 'second admin', role: 'admin' });
    const res = await callWith(s, admin.secret, 'POST', '/v0/keys', { name: 'made by a runtime key', role: 'client' });
    expect(res.status).toBe(201);
  });
});

describe('runtime keys with other auth options', () => {
  it('auth: false — a runtime key is that key (limits, usage); anything else is admin as before', async () => {
    const s = await llmlb({ auth: false });
    await register(s, await upstream());
    const key = await createKey(s, { name: 'attributed', role: 'client', limits: { models: ['other'] } });
    expect(await bodyOf(await callWith(s, key.secret, 'GET', '/v0/me'))).toEqual({ role: 'client', name: 'attributed', key_id: key.id });
    expect((await chatWith(s, key.secret, MODEL)).status).toBe(404);
    expect((await callWith(s, 'anything-at-all', 'GET', '/v0/me')).status).toBe(200);
    expect((await chatWith(s, 'anything-at-all', MODEL)).status).toBe(200);
  });

  it('an auth function — runtime keys are checked first, the function decides the rest', async () => {
    const s = await llmlb({ auth: (req) => (req.headers['x-host-user'] === 'alice' ? { role: 'admin', name: 'alice' } : null) });
    const created = await fetch(`${s.url}/v0/keys`, {
      method: 'POST',
      headers: { 'x-host-user': 'alice', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'svc', role: 'viewer' }),
    });
    expect(created.status).toBe(201);
    const key = (await created.json()) as { secret: string; id: string };
    expect((await bodyOf(await callWith(s, key.secret, 'GET', '/v0/me'))).key_id).toBe(key.id);
    expect((await callWith(s, 'unknown-token-0123456789', 'GET', '/v0/me')).status).toBe(401);
  });
});

describe('registration tokens (node keys)', () => {
  it('one_use needs the node role', async () => {
    const s = await llmlb();
    const res = await s.admin('POST', '/v0/keys', { name: 'x', role: 'client', one_use: true });
    expect([res.status, res.body.error.details[0].path]).toEqual([400, 'one_use']);
  });

  it('a one-use token is consumed once: then it no longer authenticates, here or anywhere', async () => {
    const s = await llmlb();
    const token = await createKey(s, { name: 'rack-7', role: 'node', one_use: true, expires_at: new Date(Date.now() + 3_600_000).toISOString() });
    // The node role may only register and heartbeat: a known token is a 403 elsewhere, an unknown one a 401.
    expect((await callWith(s, token.secret, 'GET', '/v0/me')).status).toBe(403);
    const { keys } = routerInternals(s.router);
    expect(await keys.consume(token.id)).toBe(true);
    expect((await callWith(s, token.secret, 'GET', '/v0/me')).status).toBe(401);
    await expect(keys.consume(token.id)).rejects.toMatchObject({ code: 'unauthorized' });
    expect((await s.admin('GET', `/v0/keys/${token.id}`)).body).toMatchObject({ state: 'consumed', consumed_at: expect.any(String) });

    const reusable = await createKey(s, { name: 'fleet', role: 'node' });
    expect(await keys.consume(reusable.id)).toBe(true);
    expect((await callWith(s, reusable.secret, 'GET', '/v0/me')).status).toBe(403);
    await expect(keys.consume('no-such-key')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('POST /v0/nodes consumes a one-use token: the first registration succeeds, the token is then refused', async () => {
    const s = await llmlb();
    const [a, b] = [await upstream({ name: 'rack-a' }), await upstream({ name: 'rack-b' })];
    const token = await createKey(s, { name: 'rack token', role: 'node', one_use: true });
    const register = (secret: string, u: { url(): string; name: string }) => callWith(s, secret, 'POST', '/v0/nodes', { name: u.name, base_url: u.url() });
    // A registration that fails (bad body) consumes nothing.
    expect((await callWith(s, token.secret, 'POST', '/v0/nodes', { name: 'x', base_url: 'not a url' })).status).toBe(400);
    expect((await register(token.secret, a)).status).toBe(201);
    expect((await s.admin('GET', `/v0/keys/${token.id}`)).body.state).toBe('consumed');
    expect((await register(token.secret, b)).status).toBe(401);
    expect((await s.admin('GET', '/v0/nodes')).body.total).toBe(1);

    const fleet = await createKey(s, { name: 'fleet token', role: 'node' });
    expect((await register(fleet.secret, b)).status).toBe(201);
    expect((await register(fleet.secret, b)).status).toBe(200); // the same node again: its details are updated
    expect((await s.admin('GET', `/v0/keys/${fleet.id}`)).body.state).toBe('active');
  });

  it('of two racing consumptions exactly one wins', async () => {
    const s = await llmlb();
    const token = await createKey(s, { name: 'race', role: 'node', one_use: true });
    const { keys } = routerInternals(s.router);
    const results = await Promise.allSettled([keys.consume(token.id), keys.consume(token.id)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });
});
