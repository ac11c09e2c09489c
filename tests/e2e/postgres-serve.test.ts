/**
 * Three real `llmlb serve` processes on one PostgreSQL database: a registration on one is
 * routable on the others within 1 s, the endpoint is probed by one instance only, and
 * `kill -9` of the instance holding its check lease hands the checks over within two intervals.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.js';
import { until } from '../helpers/llmlb-server.js';
import { CLI, type ServerProcess, killStrays, spawnServer } from '../helpers/processes.js';
import { describePostgres, testDatabase } from '../storage/postgres-resources.js';

const ADMIN = 'e2e-admin-key-0123456789';
const CLIENT = 'e2e-client-key-0123456789';
const INTERVAL_MS = 10_000;

let url = '';
let upstream: FakeUpstream | undefined;
afterEach(killStrays);
afterAll(() => upstream?.stop());

describePostgres('llmlb serve on PostgreSQL (three processes)', () => {
  beforeAll(async () => {
    url = await testDatabase();
  });

  const serve = (): Promise<ServerProcess> =>
    spawnServer([CLI, 'serve', '--port', '0', '--db', url], {
      env: { LLMLB_API_KEYS: `${ADMIN}:admin,${CLIENT}:client`, LLMLB_SECRET: 'e2e-secret-0123456789abcdef', LLMLB_LEASE_TTL_MS: '1000' },
    });
  const call = (base: string, method: string, path: string, key: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const probes = (): number => upstream!.requests.filter((r) => r.path === '/v1/models').length;

  it('shares registrations, checks each endpoint once, and survives kill -9 of the checker', { timeout: 60_000 }, async () => {
    const servers = await Promise.all([serve(), serve(), serve()]);
    const instances = await Promise.all(servers.map(async (s) => JSON.parse((await s.waitFor(/^.*"llmlb started".*$/m))[0]).instance as string));
    upstream = await startFakeUpstream({ models: ['shared-model'] });

    const began = Date.now();
    const created = await call(servers[0]!.url, 'POST', '/v0/endpoints', ADMIN, { name: 'gpu', base_url: upstream.url(), health_check_interval_secs: INTERVAL_MS / 1000 });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const chat = { model: 'shared-model', messages: [{ role: 'user', content: 'hi' }] };
    await until(async () => {
      const answers = await Promise.all(servers.slice(1).map((s) => call(s.url, 'POST', '/v1/chat/completions', CLIENT, chat)));
      return answers.every((res) => res.status === 200);
    }, 1000);
    expect(Date.now() - began).toBeLessThan(1000);

    // One instance checks it: one probe, however many lease rounds pass.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(probes()).toBe(1);
    const holder = await leaseHolder(id);
    const victim = servers[instances.indexOf(holder!)]!;
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    await until(() => probes() === 2, 2 * INTERVAL_MS);
    expect(Date.now() - killedAt).toBeLessThan(2 * INTERVAL_MS);
    expect([holder, undefined]).not.toContain(await leaseHolder(id));
    const survivor = servers.find((s) => s !== victim)!;
    expect((await call(survivor.url, 'POST', '/v1/chat/completions', CLIENT, chat)).status).toBe(200);
  });
});

/** The instance holding the endpoint's check lease, read from the database. */
async function leaseHolder(endpointId: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ holder: string }>('select holder from llmlb_leases where name = $1 and expires_at > $2', [
      `check:${endpointId}`,
      Date.now(),
    ]);
    return rows[0]?.holder;
  } finally {
    await client.end();
  }
}
