/**
 * Runtime keys on several routers sharing one database: a key created, revoked or disabled on one
 * instance is honoured by the other once it has read the change feed (without a restart), and
 * per-key limits are shared: each live instance enforces `ceil(limit / live instances)`. Run on a
 * SQLite file (the cluster switched on, polling the feed) and on PostgreSQL (pushed changes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { routerInternals } from '../../src/internals.js';
import type { StorageAdapter } from '../../src/storage/types.js';
import { postgresStorage } from '../../src/storage/postgres/index.js';
import { sqliteStorage } from '../../src/storage/sqlite/index.js';
import { gateChat } from '../helpers/fake-upstream.js';
import { callWith, chatWith, createKey } from '../helpers/keys.js';
import { type LlmlbServer, until, useFixtures } from '../helpers/llmlb-server.js';
import { describePostgres, testDatabase } from '../storage/postgres-resources.js';

const { upstream, llmlb, register } = useFixtures();
const MODEL = 'llama3.1:8b';

/** Two routers on one database (a fresh one per case), with quick feed catch-ups and leases. */
type Pair = () => Promise<[LlmlbServer, LlmlbServer]>;

/** Whether `s` can route `MODEL` now (the endpoint and its status have reached it). */
function routable(s: LlmlbServer): boolean {
  try {
    s.router.select(MODEL);
    return true;
  } catch {
    return false;
  }
}

function cases(pair: Pair): void {
  it('a key created on one instance works on the other; revoking it there stops it here', async () => {
    const [a, b] = await pair();
    const u = await upstream();
    await register(a, u);
    await until(() => routable(b));
    const key = await createKey(a, { name: 'shared', role: 'client' });
    expect((await chatWith(a, key.secret, MODEL)).status).toBe(200);
    await until(async () => (await chatWith(b, key.secret, MODEL)).status === 200);
    expect((await b.admin('GET', `/v0/keys/${key.id}`)).body.name).toBe('shared');

    expect((await b.admin('DELETE', `/v0/keys/${key.id}`)).status).toBe(204);
    expect((await chatWith(b, key.secret, MODEL)).status).toBe(401);
    await until(async () => (await chatWith(a, key.secret, MODEL)).status === 401);
    expect((await a.admin('GET', `/v0/keys/${key.id}`)).body.state).toBe('revoked');
  });

  it('disabling on one instance reaches the other', async () => {
    const [a, b] = await pair();
    const key = await createKey(a, { name: 'toggled', role: 'viewer' });
    await until(async () => (await callWith(b, key.secret, 'GET', '/v0/me')).status === 200);
    await a.admin('PUT', `/v0/keys/${key.id}`, { enabled: false });
    await until(async () => (await callWith(b, key.secret, 'GET', '/v0/me')).status === 401);
  });

  it('limits are shared: with two live instances each admits ceil(limit / 2) concurrent requests', async () => {
    const [a, b] = await pair();
    await until(() => routerInternals(a.router).membership.liveInstances() === 2 && routerInternals(b.router).membership.liveInstances() === 2, 10_000);
    const u = await upstream();
    await register(a, u);
    await until(() => routable(b));
    const held = gateChat(u);
    const key = await createKey(a, { name: 'split', role: 'client', limits: { max_concurrency: 3 } });
    await until(async () => (await b.admin('GET', `/v0/keys/${key.id}`)).status === 200);
    let answered = 0;
    const all = [a, a, a, a, b, b, b, b].map((s) => chatWith(s, key.secret, MODEL).finally(() => answered++));
    // ceil(3 / 2) = 2 per instance: 4 admitted in all, 4 refused at once.
    await until(() => held.running() === 4 && answered === 4);
    held.open();
    const statuses = (await Promise.all(all)).map((r) => r.status);
    expect(statuses.sort()).toEqual([200, 200, 200, 200, 429, 429, 429, 429]);
    expect(held.peak()).toBe(4);
  });
}

describe('runtime keys on two routers sharing a SQLite file', () => {
  cases(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmlb-keys-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const filename = join(dir, 'llmlb.db');
    const start = () => llmlb({ storage: sqliteStorage({ filename }), cluster: { catchUpIntervalMs: 50, leaseTtlMs: 600 } });
    return [await start(), await start()];
  });
});

describePostgres('runtime keys on two routers sharing PostgreSQL', () => {
  cases(async () => {
    const database = await testDatabase();
    const storage = (): StorageAdapter => postgresStorage({ connectionString: database });
    const start = () => llmlb({ storage: storage(), cluster: { leaseTtlMs: 600 } });
    return [await start(), await start()];
  });
});
