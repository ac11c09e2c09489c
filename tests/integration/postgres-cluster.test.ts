/**
 * Three routers in one process on one PostgreSQL database, with fake upstreams on 127.0.0.1:
 * changes reach every instance within a second, each endpoint has exactly one checker, strikes
 * reach it, and an instance that leaves hands its endpoints over.
 */
import { beforeAll, expect, it } from 'vitest';
import { routerInternals } from '../../src/internals.js';
import type { RouterOptions } from '../../src/router.js';
import { postgresStorage } from '../../src/storage/postgres/index.js';
import { type FakeUpstream, gateChat } from '../helpers/fake-upstream.js';
import { type LlmlbServer, until, useFixtures } from '../helpers/llmlb-server.js';
import { describePostgres, testDatabase } from '../storage/postgres-resources.js';

const { upstream, llmlb } = useFixtures();
const MODEL = 'llama3.1:8b';
const LEASE_TTL_MS = 900;
let url = '';

beforeAll(async () => {
  url = await testDatabase();
});

/** A router on the test database, with short leases so that hand-overs are quick. */
function instance(options: RouterOptions = {}): Promise<LlmlbServer> {
  return llmlb({ storage: postgresStorage({ connectionString: url }), cluster: { leaseTtlMs: LEASE_TTL_MS }, ...options });
}

/** Registers `u` on `s` (interval 10 s); returns its id. */
async function register(s: LlmlbServer, u: FakeUpstream): Promise<string> {
  const { status, body } = await s.admin('POST', '/v0/endpoints', { name: `${u.name}-${u.port}`, base_url: u.url(), health_check_interval_secs: 10 });
  expect(status).toBe(201);
  return body.id as string;
}

function routable(s: LlmlbServer, model = MODEL): boolean {
  try {
    s.router.select(model);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves once `members` instances have each renewed their membership lease `rounds` more
 * times (every renewal sets `expires_at = now + ttl`; rounds run every third of the ttl): the
 * way to let lease rounds pass when what is asserted is that nothing happens during them.
 */
async function leaseRounds(members: number, rounds: number): Promise<void> {
  const storage = postgresStorage({ connectionString: url });
  await storage.init();
  try {
    const after = Date.now() + LEASE_TTL_MS + (rounds * LEASE_TTL_MS) / 3;
    await until(async () => {
      const live = await storage.listLeases('member:', Date.now());
      return live.length >= members && live.every((lease) => lease.expires_at >= after);
    }, 10_000);
  } finally {
    await storage.close();
  }
}

/** `GET /v1/models` probes the upstream received. */
const probes = (u: FakeUpstream): number => u.requests.filter((r) => r.path === '/v1/models').length;

describePostgres('several routers on one PostgreSQL', () => {
  it('holds a concurrency cap for the whole deployment: each live instance takes its share, and more when one leaves', async () => {
    const [a, b] = [await instance(), await instance()];
    const u = await upstream({ models: ['capped-model'] });
    const held = gateChat(u);
    const { body } = await a.admin('POST', '/v0/endpoints', { name: `capped-${u.port}`, base_url: u.url(), max_concurrency: 4 });
    await until(() => routable(a, 'capped-model') && routable(b, 'capped-model'), 3000);
    await until(() => [a, b].every((s) => routerInternals(s.router).membership.liveInstances() === 2), 3000);
    const chat = { model: 'capped-model', messages: [{ role: 'user', content: 'hi' }] };
    const burst = [a, b].flatMap((s) => Array.from({ length: 10 }, () => s.infer('/v1/chat/completions', chat)));
    await until(() => held.running() === 4 && a.router.stats.queued + b.router.stats.queued === 16);
    expect(a.router.stats.get(body.id).in_flight).toBe(2);
    expect(b.router.stats.get(body.id).in_flight).toBe(2);
    // b leaves: a's share becomes the whole cap.
    held.open();
    await Promise.all(burst);
    expect(held.peak()).toBe(4);
    await b.close();
    await until(() => routerInternals(a.router).membership.liveInstances() === 1, 5000);
    const again = gateChat(u);
    const alone = Array.from({ length: 6 }, () => a.infer('/v1/chat/completions', chat));
    await until(() => again.running() === 4);
    again.open();
    expect((await Promise.all(alone)).map((r) => r.status)).toEqual(Array(6).fill(200));
  });

  it('makes a registration on one instance routable on the others within 1 s', async () => {
    const [a, b, c] = [await instance(), await instance(), await instance()];
    const u = await upstream({ models: ['reg-model'] });
    const began = Date.now();
    const id = await register(a, u);
    await until(() => routable(b, 'reg-model') && routable(c, 'reg-model'), 1000);
    expect(Date.now() - began).toBeLessThan(1000);
    // An admin change is followed too.
    await b.admin('PUT', `/v0/endpoints/${id}`, { notes: 'changed on b' });
    await until(async () => (await c.router.endpoints.get(id)).notes === 'changed on b', 1000);
    await until(() => [a, b, c].every((s) => routerInternals(s.router).membership.liveInstances() === 3), 2000);
  });

  it('checks each endpoint on exactly one instance, and a restart keeps the cadence', async () => {
    const routers = [await instance(), await instance(), await instance()];
    const checkers = new Map<string, Set<number>>();
    routers.forEach((s, n) =>
      s.router.checker.on('check', ({ endpoint }) => checkers.set(endpoint.id, (checkers.get(endpoint.id) ?? new Set()).add(n))),
    );
    const ups = await Promise.all([1, 2, 3, 4].map((n) => upstream({ name: `u${n}`, models: [`m${n}`] })));
    const ids = await Promise.all(ups.map((u, n) => register(routers[n % 3]!, u)));
    await until(() => ups.every((_, n) => routers.every((s) => routable(s, `m${n + 1}`))), 3000);
    // Several lease rounds later, still one check per endpoint (the interval is 10 s).
    await leaseRounds(routers.length, 4);
    expect(ids.map((id) => checkers.get(id)?.size)).toEqual([1, 1, 1, 1]);
    expect(ups.map(probes)).toEqual([1, 1, 1, 1]);
    // Restarted on the same data, the instances wait for each endpoint's interval.
    for (const old of routers) await old.close();
    await Promise.all([instance(), instance(), instance()]);
    await leaseRounds(3, 3);
    expect(ups.map(probes)).toEqual([1, 1, 1, 1]);
  });

  it('makes an alias written on one instance route on the others within 1 s, changes and deletion included', async () => {
    const [a, b] = [await instance(), await instance()];
    const [ollama, vllm] = [await upstream({ name: 'ollama', models: ['al-8b'] }), await upstream({ name: 'vllm', models: ['org/Al-8B'] })];
    await register(a, ollama);
    await register(a, vllm);
    await until(() => routable(b, 'al-8b') && routable(b, 'org/Al-8B'), 3000);
    const began = Date.now();
    expect((await a.admin('POST', '/v0/aliases', { name: 'al', targets: ['al-8b', 'org/Al-8B'] })).status).toBe(201);
    await until(() => routable(b, 'al'), 1000);
    expect(Date.now() - began).toBeLessThan(1000);
    for (let n = 0; n < 4; n++) expect((await b.infer('/v1/chat/completions', { model: 'al', messages: [] })).status).toBe(200);
    const sent = (u: FakeUpstream) => u.requestsTo('/v1/chat/completions').map((r) => JSON.parse(r.body.toString()).model as string);
    expect([...sent(ollama), ...sent(vllm)]).toHaveLength(4);
    expect(sent(ollama).every((m) => m === 'al-8b') && sent(vllm).every((m) => m === 'org/Al-8B')).toBe(true);
    // An update on b reaches a; a deletion on a reaches b.
    await b.admin('PUT', '/v0/aliases/al', { targets: ['org/Al-8B'] });
    await until(async () => (await a.router.aliases.get('al')).targets.length === 1, 1000);
    await a.admin('DELETE', '/v0/aliases/al');
    await until(() => !routable(b, 'al'), 1000);
    expect((await b.admin('GET', '/v0/aliases')).body).toEqual({ aliases: [], total: 0 });
  });

  it('hands the endpoints of an instance that leaves to the others, and shrinks the membership', async () => {
    const [a, b] = [await instance(), await instance()];
    const u = await upstream();
    const id = await register(a, u);
    await until(() => routable(a) && routable(b), 3000);
    await until(() => ownerOf(a, id) || ownerOf(b, id), 3000);
    const owner = ownerOf(a, id) ? a : b;
    const other = owner === a ? b : a;
    const changes: number[] = [];
    routerInternals(other.router).membership.on('change', (live) => changes.push(live));
    const probed = probes(u);
    await owner.close();
    await until(() => ownerOf(other, id), 3000);
    await until(() => changes.includes(1), 3000);
    // The new owner keeps the cadence: the next probe comes at the interval, not at once.
    expect(probes(u)).toBe(probed);
  });

  it('sends a passive strike seen on another instance to the endpoint\'s checker', async () => {
    const [a, b] = [await instance({ proxy: { retries: 0 } }), await instance({ proxy: { retries: 0 } })];
    const u = await upstream();
    const id = await register(a, u);
    await until(() => routable(a) && routable(b) && (ownerOf(a, id) || ownerOf(b, id)), 3000);
    const [owner, other] = ownerOf(a, id) ? [a, b] : [b, a];
    const checked = new Promise((resolve) => owner.router.checker.once('check', resolve));
    await u.stop();
    await other.infer('/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    await checked;
  });
});

/** Whether `s` holds the endpoint's check lease. */
function ownerOf(s: LlmlbServer, id: string): boolean {
  return routerInternals(s.router).checks(id);
}
