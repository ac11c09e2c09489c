/**
 * Degraded mode: PostgreSQL stops under two running routers (this file's own server). Routing
 * goes on from memory, admin writes answer 503 `storage_unavailable`, and once the server is
 * back the routers reconnect and catch up from the change feed, without a restart.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postgresStorage } from '../../src/storage/postgres/index.js';
import { type LlmlbServer, until, useFixtures } from '../helpers/llmlb-server.js';
import { type PostgresServer, createDatabase, startPostgresServer } from '../helpers/postgres-server.js';
import { describePostgres } from '../storage/postgres-resources.js';

const { upstream, llmlb } = useFixtures();
let server: PostgresServer | undefined;
let url = '';

describePostgres('PostgreSQL outage', () => {
  beforeAll(async () => {
    server = await startPostgresServer();
    url = await createDatabase(server.url);
  });
  afterAll(() => server?.destroy());

  const instance = (): Promise<LlmlbServer> =>
    llmlb({ storage: postgresStorage({ connectionString: url }), cluster: { leaseTtlMs: 600, catchUpIntervalMs: 200 } });
  const chat = (s: LlmlbServer, model: string) => s.infer('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] });

  it('keeps routing from memory, refuses admin writes with 503, and catches up after a restart', async () => {
    const [a, b] = [await instance(), await instance()];
    const first = await upstream({ name: 'first', models: ['m1'] });
    expect((await a.admin('POST', '/v0/endpoints', { name: 'first', base_url: first.url() })).status).toBe(201);
    await until(async () => (await chat(b, 'm1')).status === 200, 3000);

    server!.stop();
    for (const s of [a, b]) expect((await chat(s, 'm1')).status).toBe(200);
    const second = await upstream({ name: 'second', models: ['m2'] });
    const refused = await a.admin('POST', '/v0/endpoints', { name: 'second', base_url: second.url() });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('storage_unavailable');
    expect(refused.body.error.message).toMatch(/unreachable.*routing continues/);
    const list = await b.admin('GET', '/v0/endpoints');
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(1);
    // Leases lapse while the database is away; routing does not depend on them.
    await new Promise((resolve) => setTimeout(resolve, 800));
    for (const s of [a, b]) expect((await chat(s, 'm1')).status).toBe(200);

    server!.restart();
    await until(async () => (await a.admin('POST', '/v0/endpoints', { name: 'second', base_url: second.url() })).status === 201, 10_000);
    await until(async () => (await chat(b, 'm2')).status === 200, 5000);
  });
});
