/**
 * Three real `llmlb serve` processes on one PostgreSQL database: a registration on one is
 * routable on the others within 1 s, the endpoint is probed by one instance only, `kill -9` of
 * the instance holding its check lease hands the checks over within two intervals, a concurrency
 * cap holds for the three together under a burst, and stopping PostgreSQL keeps `/v1` serving
 * (admin writes answer 503) until it is back, without restarting llmlb.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type FakeUpstream, gateChat, startFakeUpstream } from '../helpers/fake-upstream.js';
import { until } from '../helpers/llmlb-server.js';
import { type PostgresServer, createDatabase, startPostgresServer } from '../helpers/postgres-server.js';
import { CLI, type ServerProcess, killStrays, spawnServer } from '../helpers/processes.js';
import { describePostgres, testDatabase } from '../storage/postgres-resources.js';

const ADMIN = 'e2e-admin-key-0123456789';
const CLIENT = 'e2e-client-key-0123456789';
const INTERVAL_MS = 10_000;

let url = '';
const upstreams: FakeUpstream[] = [];
let owned: PostgresServer | undefined;
afterEach(killStrays);
afterEach(() => Promise.all(upstreams.splice(0).map((u) => u.stop())));
afterAll(() => owned?.destroy());

const serve = (db: string, leaseTtlMs = 1000): Promise<ServerProcess> =>
  spawnServer([CLI, 'serve', '--port', '0', '--db', db], {
    env: { LLMLB_API_KEYS: `${ADMIN}:admin,${CLIENT}:client`, LLMLB_SECRET: 'e2e-secret-0123456789abcdef', LLMLB_LEASE_TTL_MS: String(leaseTtlMs) },
  });
const call = (base: string, method: string, path: string, key: string, body?: unknown) =>
  fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const chatOf = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }] });
const chat = (s: ServerProcess, model: string) => call(s.url, 'POST', '/v1/chat/completions', CLIENT, chatOf(model));
/** A fake upstream serving `models`, stopped after the test. */
async function fakeUpstream(models: string[]): Promise<FakeUpstream> {
  const u = await startFakeUpstream({ models });
  upstreams.push(u);
  return u;
}

describePostgres('llmlb serve on PostgreSQL (three processes)', () => {
  beforeAll(async () => {
    url = await testDatabase();
  });

  it('shares registrations, checks each endpoint once, and survives kill -9 of the checker', { timeout: 60_000 }, async () => {
    const servers = await Promise.all([serve(url), serve(url), serve(url)]);
    const instances = await Promise.all(servers.map(async (s) => JSON.parse((await s.waitFor(/^.*"llmlb started".*$/m))[0]).instance as string));
    const upstream = await fakeUpstream(['shared-model']);
    const probes = (): number => upstream.requestsTo('/v1/models').length;

    const began = Date.now();
    const created = await call(servers[0]!.url, 'POST', '/v0/endpoints', ADMIN, { name: 'gpu', base_url: upstream.url(), health_check_interval_secs: INTERVAL_MS / 1000 });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    await until(async () => {
      const answers = await Promise.all(servers.slice(1).map((s) => chat(s, 'shared-model')));
      return answers.every((res) => res.status === 200);
    }, 1000);
    expect(Date.now() - began).toBeLessThan(1000);

    // One instance checks it: one probe, however many lease rounds pass.
    await leaseRounds(url, 3, 4, 1000);
    expect(probes()).toBe(1);
    const holder = (await leases(url, `check:${id}`))[0]?.holder;
    const victim = servers[instances.indexOf(holder!)]!;
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    await until(() => probes() === 2, 2 * INTERVAL_MS);
    expect(Date.now() - killedAt).toBeLessThan(2 * INTERVAL_MS);
    expect([holder, undefined]).not.toContain((await leases(url, `check:${id}`))[0]?.holder);
    const survivor = servers.find((s) => s !== victim)!;
    expect((await chat(survivor, 'shared-model')).status).toBe(200);
  });

  it('holds a max_concurrency of 6 across the three processes under a burst of 60', { timeout: 60_000 }, async () => {
    // Longer leases than above: a lease round delayed on a busy machine must not drop a member.
    const ttlMs = 3000;
    const db = await testDatabase();
    const servers = await Promise.all([serve(db, ttlMs), serve(db, ttlMs), serve(db, ttlMs)]);
    const upstream = await fakeUpstream(['capped-model']);
    const held = gateChat(upstream);
    const created = await call(servers[0]!.url, 'POST', '/v0/endpoints', ADMIN, { name: 'capped', base_url: upstream.url(), max_concurrency: 6 });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    await until(async () => (await Promise.all(servers.map((s) => endpointStatus(s, id)))).every((status) => status === 'online'), 10_000);
    await untilMembersKnown(db, 3, ttlMs, 10_000);

    const burst = Array.from({ length: 60 }, (_, n) => chat(servers[n % 3]!, 'capped-model'));
    // Each process forwards its share, ceil(6 / 3) = 2, and queues the rest.
    await until(async () => held.running() === 6 && (await Promise.all(servers.map((s) => inFlight(s, id)))).every((n) => n === 2), 20_000);
    expect(held.peak()).toBe(6);
    held.open();
    const answers = await Promise.all(burst);
    expect(answers.map((res) => res.status)).toEqual(Array(60).fill(200));
    expect(held.peak()).toBe(6);
    expect(upstream.requestsTo('/v1/chat/completions')).toHaveLength(60);
  });

  it('keeps /v1 serving and refuses admin writes with 503 while PostgreSQL is down, and recovers when it is back', { timeout: 60_000 }, async () => {
    owned = await startPostgresServer();
    const db = await createDatabase(owned.url);
    const ttlMs = 1000;
    const servers = await Promise.all([serve(db, ttlMs), serve(db, ttlMs), serve(db, ttlMs)]);
    const [m1, m2] = [await fakeUpstream(['m1']), await fakeUpstream(['m2'])];
    const first = await call(servers[0]!.url, 'POST', '/v0/endpoints', ADMIN, { name: 'first', base_url: m1.url() });
    expect(first.status).toBe(201);
    await until(async () => (await Promise.all(servers.map((s) => chat(s, 'm1')))).every((res) => res.status === 200), 10_000);

    owned.stop();
    // For longer than the leases live, every process keeps routing from memory.
    const stoppedAt = Date.now();
    while (Date.now() - stoppedAt < 2 * ttlMs) {
      expect((await Promise.all(servers.map((s) => chat(s, 'm1')))).map((res) => res.status)).toEqual([200, 200, 200]);
    }
    for (const s of servers) {
      const refused = await call(s.url, 'POST', '/v0/endpoints', ADMIN, { name: 'second', base_url: m2.url() });
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('storage_unavailable');
    }

    owned.restart();
    await until(async () => {
      const res = await call(servers[1]!.url, 'POST', '/v0/endpoints', ADMIN, { name: 'second', base_url: m2.url() });
      return res.status === 201;
    }, 15_000);
    // The others hear of it through LISTEN once it has reconnected (backoff up to 5 s), or the 5 s catch-up.
    await until(async () => (await Promise.all([servers[0]!, servers[2]!].map((s) => chat(s, 'm2')))).every((res) => res.status === 200), 10_000);
  });
});

/** The unexpired leases named `name` (or, ending in `:`, starting with it) in the database of `db`. */
/**
 * Resolves once `members` instances have each renewed their membership lease `rounds` more times
 * (a renewal sets `expires_at = now + ttlMs`; rounds run every third of the ttl): lease rounds
 * pass while the test asserts that nothing happens during them.
 */
async function leaseRounds(db: string, members: number, rounds: number, ttlMs: number): Promise<void> {
  const after = Date.now() + ttlMs + (rounds * ttlMs) / 3;
  await until(async () => {
    const live = await leases(db, 'member:');
    return live.length >= members && live.every((lease) => lease.expires_at >= after);
  }, 10_000);
}

async function leases(db: string, name: string): Promise<{ holder: string; expires_at: number }[]> {
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  try {
    const { rows } = await client.query<{ holder: string; expires_at: string }>(
      'select holder, expires_at from llmlb_leases where (name = $1 or ($1 like \'%:\' and starts_with(name, $1))) and expires_at > $2',
      [name, Date.now()],
    );
    return rows.map((row) => ({ holder: row.holder, expires_at: Number(row.expires_at) }));
  } finally {
    await client.end();
  }
}

/**
 * Resolves once `n` instances hold membership leases and each has since run a lease round, which
 * read the members after all `n` had joined: every instance then enforces its share of the caps.
 */
async function untilMembersKnown(db: string, n: number, ttlMs: number, timeoutMs: number): Promise<void> {
  let allJoined: number | undefined;
  await until(async () => {
    const members = await leases(db, 'member:');
    if (members.length !== n) return false;
    allJoined ??= Date.now();
    // A round renews the lease at its start (`expires_at = now + ttl`), then reads the members.
    return members.every((member) => member.expires_at - ttlMs > allJoined!);
  }, timeoutMs);
}

async function endpointStatus(s: ServerProcess, id: string): Promise<string> {
  return ((await (await call(s.url, 'GET', `/v0/endpoints/${id}`, ADMIN)).json()) as { status: string }).status;
}

async function inFlight(s: ServerProcess, id: string): Promise<number> {
  return ((await (await call(s.url, 'GET', `/v0/endpoints/${id}/stats`, ADMIN)).json()) as { in_flight: number }).in_flight;
}
