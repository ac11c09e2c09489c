/** Conformance cases: model aliases and their change-feed entries, and static model lists. */
import { expect, it } from 'vitest';
import type { AliasRecord } from '../../../src/alias-schema.js';
import { LlmlbError } from '../../../src/errors.js';
import type { StaticModel } from '../../../src/static-models.js';
import { makeEndpointRecord, T0, T1, T2 } from '../../helpers/records.js';
import { expectConflict, type Suite } from './suite.js';

/** A stored alias: version 1, created and updated at {@link T0}; `overrides` win. */
function makeAlias(name: string, targets: string[], overrides: Partial<AliasRecord> = {}): AliasRecord {
  return { name, targets, created_at: T0, updated_at: T0, version: 1, ...overrides };
}

/** Inserting, reading, listing, updating and deleting aliases; what each write records in the feed. */
export function aliasCases(suite: Suite): void {
  it('round-trips aliases exactly and lists them by name in JavaScript string order', async () => {
    const slash = makeAlias('meta-llama/Llama-3.1-8B', ['meta-llama/Meta-Llama-3.1-8B-Instruct']);
    const plain = makeAlias('llama3.1', ['llama3.1:8b', 'meta-llama/Llama-3.1-8B-Instruct'], { updated_at: T1 });
    const upper = makeAlias('Zeta', ['z']);
    const unicode = makeAlias('模型-é', ['日本語:latest', 'x y']);
    for (const a of [unicode, plain, upper, slash]) await suite.storage.insertAlias(a);
    expect(await suite.storage.getAlias('llama3.1')).toStrictEqual(plain);
    expect(await suite.storage.getAlias('模型-é')).toStrictEqual(unicode);
    expect(await suite.storage.getAlias('LLAMA3.1')).toBeUndefined();
    expect(await suite.storage.getAlias('nope')).toBeUndefined();
    expect((await suite.storage.listAliases()).map((a) => a.name)).toEqual(['Zeta', 'llama3.1', 'meta-llama/Llama-3.1-8B', '模型-é']);
  });

  it('refuses a second alias of the same name with conflict, changing nothing', async () => {
    const first = makeAlias('dup', ['a']);
    await suite.storage.insertAlias(first);
    const before = await suite.storage.latestChange();
    const error = await expectConflict(suite.storage.insertAlias(makeAlias('dup', ['b'])));
    expect(error.message).toContain('dup');
    expect(error.details).toStrictEqual([{ path: 'name', message: 'already taken' }]);
    expect(await suite.storage.getAlias('dup')).toStrictEqual(first);
    expect(await suite.storage.latestChange()).toBe(before);
  });

  it('updates targets, raising the version; undefined for an unknown alias', async () => {
    await suite.storage.insertAlias(makeAlias('a', ['x']));
    const updated = await suite.storage.updateAlias('a', { targets: ['y', 'x'], updated_at: T2 });
    expect(updated).toStrictEqual(makeAlias('a', ['y', 'x'], { updated_at: T2, version: 2 }));
    expect(await suite.storage.getAlias('a')).toStrictEqual(updated);
    expect((await suite.storage.updateAlias('a', { targets: ['z'], updated_at: T2 }))?.version).toBe(3);
    const before = await suite.storage.latestChange();
    expect(await suite.storage.updateAlias('missing', { targets: ['z'], updated_at: T2 })).toBeUndefined();
    expect(await suite.storage.latestChange()).toBe(before);
  });

  it('deletes an alias once; the name is free again', async () => {
    await suite.storage.insertAlias(makeAlias('gone', ['x']));
    expect(await suite.storage.deleteAlias('gone')).toBe(true);
    expect(await suite.storage.deleteAlias('gone')).toBe(false);
    expect(await suite.storage.getAlias('gone')).toBeUndefined();
    expect(await suite.storage.listAliases()).toEqual([]);
    await suite.storage.insertAlias(makeAlias('gone', ['y']));
    expect((await suite.storage.getAlias('gone'))?.targets).toEqual(['y']);
  });

  it('records every alias write in the feed as an `alias` change named by the alias', async () => {
    const start = await suite.storage.latestChange();
    await suite.storage.insertAlias(makeAlias('fed', ['x']));
    await suite.storage.updateAlias('fed', { targets: ['y'], updated_at: T1 });
    await suite.storage.deleteAlias('fed');
    await suite.storage.deleteAlias('fed');
    const { changes } = await suite.storage.changesSince(start);
    expect(changes.map(({ subject_id, kind }) => [subject_id, kind])).toEqual([
      ['fed', 'alias'],
      ['fed', 'alias'],
      ['fed', 'alias'],
    ]);
  });

  it('keeps aliases apart from endpoints: deleting endpoints leaves aliases alone', async () => {
    const endpoint = await suite.inserted({ name: 'llama3.1' });
    await suite.storage.insertAlias(makeAlias('llama3.1', ['llama3.1:8b']));
    await suite.storage.deleteEndpoint(endpoint.id);
    expect(await suite.storage.getAlias('llama3.1')).toStrictEqual(makeAlias('llama3.1', ['llama3.1:8b']));
  });

  it('copies aliases in and out', async () => {
    const record = makeAlias('copied', ['a', 'b']);
    await suite.storage.insertAlias(record);
    record.targets.push('mutated-input');
    (await suite.storage.getAlias('copied'))!.targets.push('mutated-get');
    (await suite.storage.listAliases())[0]!.targets.length = 0;
    const patch = { targets: ['c'], updated_at: T1 };
    const updated = await suite.storage.updateAlias('copied', patch);
    patch.targets.push('mutated-patch');
    updated!.targets.push('mutated-update');
    expect(await suite.storage.getAlias('copied')).toStrictEqual(makeAlias('copied', ['c'], { updated_at: T1, version: 2 }));
  });

  it('keeps aliases across a restart (persistent adapters)', async () => {
    if (!suite.reopen) return;
    await suite.storage.insertAlias(makeAlias('kept', ['a']));
    await suite.storage.updateAlias('kept', { targets: ['b', 'a'], updated_at: T1 });
    await suite.storage.close();
    const reopened = suite.track(await suite.reopen());
    await reopened.init();
    expect(await reopened.listAliases()).toStrictEqual([makeAlias('kept', ['b', 'a'], { updated_at: T1, version: 2 })]);
  });

  it('answers reads after a failed write as before it', async () => {
    await expect(suite.storage.insertAlias(makeAlias('x', ['a']))).resolves.toBeUndefined();
    await expect(suite.storage.insertAlias(makeAlias('x', ['a']))).rejects.toBeInstanceOf(LlmlbError);
    expect(await suite.storage.listAliases()).toStrictEqual([makeAlias('x', ['a'])]);
  });
}

/** Endpoints' static model lists: stored, patched, cleared and copied like every field. */
export function staticModelCases(suite: Suite): void {
  const list: StaticModel[] = [{ model_id: 'plain-model' }, { model_id: 'org/embedder', capabilities: ['embeddings'] }];

  it('round-trips a static model list, replaces it with a patch and clears it with null', async () => {
    const record = makeEndpointRecord({ static_models: list });
    await suite.storage.insertEndpoint(record);
    expect(await suite.storage.getEndpoint(record.id)).toStrictEqual(record);
    const replaced = await suite.storage.updateEndpoint(record.id, { static_models: [{ model_id: 'other', capabilities: ['chat', 'rerank'] }] });
    expect(replaced?.static_models).toStrictEqual([{ model_id: 'other', capabilities: ['chat', 'rerank'] }]);
    // A patch without the field keeps the list.
    expect((await suite.storage.updateEndpoint(record.id, { notes: 'n' }))?.static_models).toStrictEqual(replaced?.static_models);
    const cleared = await suite.storage.updateEndpoint(record.id, { static_models: null });
    expect(cleared?.static_models).toBeNull();
    expect((await suite.storage.listEndpoints())[0]?.static_models).toBeNull();
  });

  it('copies static model lists in and out', async () => {
    const models = structuredClone(list);
    const record = makeEndpointRecord({ static_models: models });
    await suite.storage.insertEndpoint(record);
    models[1]!.capabilities!.push('mutated-input');
    models.push({ model_id: 'mutated-input' });
    (await suite.storage.getEndpoint(record.id))!.static_models!.pop();
    (await suite.storage.listEndpoints())[0]!.static_models![0]!.model_id = 'mutated-list';
    expect((await suite.storage.getEndpoint(record.id))?.static_models).toStrictEqual(list);
  });
}
