/** router.aliases: the programmatic alias API, its rules, and aliases following another router's writes. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { routerInternals } from '../../src/internals.js';
import { createRouter, type Router } from '../../src/router.js';
import type { DiscoveredModel } from '../../src/schema.js';
import { sqliteStorage } from '../../src/storage/sqlite/index.js';
import { makeEndpointRecord } from '../helpers/records.js';
import { expectCode } from '../helpers/expect-code.js';

const routers: Router[] = [];
const dirs: string[] = [];

async function started(options: Parameters<typeof createRouter>[0] = {}): Promise<Router> {
  const router = createRouter({ checker: false, ...options });
  routers.push(router);
  await router.start();
  return router;
}

/** Stores an endpoint serving `models` straight through the store (no upstream needed). */
async function serving(router: Router, models: string[], metadata: Partial<DiscoveredModel> = {}): Promise<void> {
  const { store } = routerInternals(router);
  const record = makeEndpointRecord({ status: 'online' });
  await store.create(record);
  await store.replaceModels(record.id, models.map((model_id) => ({ model_id, capabilities: ['chat'], ...metadata })), record.registered_at);
}

afterEach(async () => {
  for (const router of routers.splice(0)) await router.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('router.aliases', () => {
  it('creates, lists, gets, updates and deletes aliases', async () => {
    const r = await started();
    const created = await r.aliases.create({ name: 'llama3.1', targets: ['llama3.1:8b', 'meta-llama/Llama-3.1-8B-Instruct'] });
    expect(created).toEqual({ name: 'llama3.1', targets: ['llama3.1:8b', 'meta-llama/Llama-3.1-8B-Instruct'], created_at: expect.any(String), updated_at: created.created_at });
    expect(created).not.toHaveProperty('version');
    await r.aliases.create({ name: 'a/b', targets: ['x'] });
    expect(await r.aliases.list()).toEqual({ aliases: [await r.aliases.get('a/b'), created], total: 2 });
    const updated = await r.aliases.update('llama3.1', { targets: ['llama3.1:8b'] });
    expect(updated).toMatchObject({ name: 'llama3.1', targets: ['llama3.1:8b'], created_at: created.created_at });
    await r.aliases.delete('llama3.1');
    await expectCode(r.aliases.get('llama3.1'), 'not_found');
    await expectCode(r.aliases.delete('llama3.1'), 'not_found');
    await expectCode(r.aliases.update('llama3.1', { targets: ['x'] }), 'not_found');
    expect((await r.aliases.list()).total).toBe(1);
  });

  it('refuses bad input with validation_error naming the fields, changing nothing', async () => {
    const r = await started();
    const cases: [unknown, string][] = [
      [{ name: '', targets: ['x'] }, 'name'],
      [{ name: ' padded', targets: ['x'] }, 'name'],
      [{ name: 'a\u0000b', targets: ['x'] }, 'name'],
      [{ name: '/lead', targets: ['x'] }, 'name'],
      [{ name: 'a//b', targets: ['x'] }, 'name'],
      [{ name: 'a/../b', targets: ['x'] }, 'name'],
      [{ name: 'x'.repeat(513), targets: ['x'] }, 'name'],
      [{ name: 'ok', targets: [] }, 'targets'],
      [{ name: 'ok', targets: ['a', 'a'] }, 'targets'],
      [{ name: 'ok', targets: Array.from({ length: 33 }, (_, i) => `m${i}`) }, 'targets'],
      [{ name: 'ok', targets: [''] }, 'targets.0'],
      [{ name: 'ok', targets: 'x' }, 'targets'],
      [{ name: 'ok', targets: ['x'], extra: 1 }, 'extra'],
    ];
    for (const [input, path] of cases) {
      const err = await expectCode(r.aliases.create(input as never), 'validation_error');
      expect(err.details?.map((d) => d.path), JSON.stringify(input)).toContain(path);
    }
    await r.aliases.create({ name: 'ok', targets: ['x'] });
    const renamed = await expectCode(r.aliases.update('ok', { name: 'other', targets: ['y'] } as never), 'validation_error');
    expect(renamed.details?.map((d) => d.path)).toEqual(['name']);
    expect((await r.aliases.list()).aliases.map((a) => [a.name, a.targets])).toEqual([['ok', ['x']]]);
  });

  it('refuses a taken name, and a served model id unless the alias lists it', async () => {
    const r = await started();
    await serving(r, ['served-model']);
    await r.aliases.create({ name: 'taken', targets: ['x'] });
    const taken = await expectCode(r.aliases.create({ name: 'taken', targets: ['y'] }), 'conflict');
    expect(taken.details).toEqual([{ path: 'name', message: 'already taken' }]);
    const hiding = await expectCode(r.aliases.create({ name: 'served-model', targets: ['other'] }), 'conflict');
    expect(hiding.message).toContain('served-model');
    expect(await r.aliases.create({ name: 'served-model', targets: ['served-model', 'other'] })).toMatchObject({ name: 'served-model' });
    await expectCode(r.aliases.update('served-model', { targets: ['other'] }), 'conflict');
    expect((await r.aliases.get('served-model')).targets).toEqual(['served-model', 'other']);
  });

  it('shows an alias in the catalog with its targets\' figures together', async () => {
    const r = await started();
    await serving(r, ['small'], { context_length: 8192, loaded: false });
    await serving(r, ['large'], { context_length: 32768, loaded: true, capabilities: ['chat', 'vision'] });
    await r.aliases.create({ name: 'both', targets: ['small', 'large', 'missing'] });
    const [info] = r.models.aliases();
    expect(info).toMatchObject({ id: 'both', available: true, capabilities: ['chat', 'vision'], context_length: 32768, loaded: true, shadows_model: false });
    expect(info?.targets.map((t) => [t.id, t.endpoints.length])).toEqual([['small', 1], ['large', 1], ['missing', 0]]);
    expect(r.models.findAlias('both')).toEqual(info);
    expect(r.models.findAlias('small')).toBeUndefined();
  });

  it('answers not_ready before start', async () => {
    const r = createRouter({ checker: false });
    routers.push(r);
    await expectCode(r.aliases.list(), 'not_ready');
    await expectCode(r.aliases.create({ name: 'a', targets: ['b'] }), 'not_ready');
  });
});

describe('aliases on shared storage', () => {
  it('are loaded at start, and another router’s writes are followed from the change feed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmlb-aliases-'));
    dirs.push(dir);
    const filename = join(dir, 'llmlb.db');
    const a = await started({ storage: sqliteStorage({ filename }) });
    await a.aliases.create({ name: 'early', targets: ['x'] });
    const b = await started({ storage: sqliteStorage({ filename }) });
    expect((await b.aliases.get('early')).targets).toEqual(['x']);

    await a.aliases.create({ name: 'late', targets: ['y'] });
    await a.aliases.update('early', { targets: ['x2'] });
    await a.aliases.delete('early');
    await a.aliases.create({ name: 'early', targets: ['x3'] });
    const { store } = routerInternals(b);
    await store.catchUp();
    expect((await b.aliases.list()).aliases.map((x) => [x.name, x.targets])).toEqual([
      ['early', ['x3']],
      ['late', ['y']],
    ]);
    expect(b.models.aliases().map((x) => x.id)).toEqual(['early', 'late']);
    await a.aliases.delete('late');
    await store.catchUp();
    await expectCode(b.aliases.get('late'), 'not_found');
    // b's own writes read back from the feed change nothing.
    await b.aliases.update('early', { targets: ['x4'] });
    const version = b.models.aliases();
    await store.catchUp();
    expect(b.models.aliases()).toBe(version);
  });
});
