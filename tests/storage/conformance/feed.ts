/** Conformance cases: the change feed. */
import { randomUUID } from 'node:crypto';
import { expect, it, onTestFinished, vi } from 'vitest';
import type { StorageChange } from '../../../src/storage/types.js';
import { makeEndpointRecord, makeHealthCheck, T0, T1, T2, T3 } from '../../helpers/records.js';
import { CHAT, EMBED, expectConflict, type Suite } from './suite.js';

/** Every change after `cursor`, read in pages of `limit`; also returns the final cursor. */
async function readAll(suite: Suite, cursor: number, limit?: number): Promise<[StorageChange[], number]> {
  const all: StorageChange[] = [];
  for (;;) {
    const batch = await suite.storage.changesSince(cursor, limit);
    if (batch.changes.length === 0) return [all, batch.cursor];
    all.push(...batch.changes);
    cursor = batch.cursor;
  }
}

/** What each write records in the feed. */
export function feedWriteCases(suite: Suite): void {
  it('is empty at first: position 0, and a cursor comes back unchanged', async () => {
    expect(await suite.storage.latestChange()).toBe(0);
    expect(await suite.storage.changesSince(0)).toStrictEqual({ changes: [], cursor: 0 });
    expect(await suite.storage.changesSince(42)).toStrictEqual({ changes: [], cursor: 42 });
  });

  it('records each kind of write, in order, with strictly increasing positions', async () => {
    const before = await suite.storage.latestChange();
    const a = await suite.inserted();
    await suite.storage.updateEndpoint(a.id, { admin_state: 'disabled' });
    await suite.storage.recordHealthCheck(a.id, { status: 'online' }, makeHealthCheck(a.id));
    await suite.storage.replaceEndpointModels(a.id, [CHAT], T1);
    await suite.storage.deleteEndpoint(a.id);

    const { changes, cursor } = await suite.storage.changesSince(before);
    expect(changes.map(({ subject_id, kind }) => [subject_id, kind])).toEqual([
      [a.id, 'endpoint'],
      [a.id, 'endpoint'],
      [a.id, 'endpoint'],
      [a.id, 'models'],
      [a.id, 'deleted'],
    ]);
    const seqs = changes.map((c) => c.seq);
    expect(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!)).toBe(true);
    expect(seqs[0]).toBeGreaterThan(before);
    expect(cursor).toBe(seqs.at(-1));
    expect(await suite.storage.latestChange()).toBe(cursor);
    expect(await suite.storage.changesSince(cursor)).toStrictEqual({ changes: [], cursor });
  });

  it('records a models change only when the set or a capability changed', async () => {
    const a = await suite.inserted();
    const start = await suite.storage.latestChange();
    await suite.storage.replaceEndpointModels(a.id, [], T1);
    await suite.storage.replaceEndpointModels(a.id, [CHAT, EMBED], T1);
    const afterAdd = await suite.storage.latestChange();
    expect(afterAdd).toBeGreaterThan(start);

    // A routine sync (same models, same capabilities) only moves last_checked.
    expect(await suite.storage.replaceEndpointModels(a.id, [EMBED, CHAT], T2)).toStrictEqual({
      added: [],
      removed: [],
      updated: [CHAT.model_id, EMBED.model_id],
    });
    expect(await suite.storage.latestChange()).toBe(afterAdd);
    expect((await suite.storage.listEndpointModels(a.id)).map((m) => m.last_checked)).toEqual([T2, T2]);

    await suite.storage.replaceEndpointModels(a.id, [{ ...CHAT, capabilities: ['chat', 'tools'] }, EMBED], T3);
    const afterCapability = await suite.storage.latestChange();
    expect(afterCapability).toBeGreaterThan(afterAdd);
    await suite.storage.replaceEndpointModels(a.id, [EMBED], T3);
    const { changes } = await suite.storage.changesSince(start);
    expect(changes.map((c) => c.kind)).toEqual(['models', 'models', 'models']);
  });

  it('records nothing for writes that fail or find nothing', async () => {
    const a = await suite.inserted();
    const latest = await suite.storage.latestChange();
    const missing = randomUUID();
    await expectConflict(suite.storage.insertEndpoint(makeEndpointRecord({ name: a.name })));
    await expectConflict(suite.storage.insertEndpoint(makeEndpointRecord({ id: a.id })));
    const b = await suite.inserted();
    const afterB = await suite.storage.latestChange();
    await expectConflict(suite.storage.updateEndpoint(b.id, { name: a.name }));
    await expectConflict(suite.storage.recordHealthCheck(b.id, { name: a.name }, makeHealthCheck(b.id)));
    expect(await suite.storage.updateEndpoint(missing, { notes: 'x' })).toBeUndefined();
    expect(await suite.storage.recordHealthCheck(missing, {}, makeHealthCheck(missing))).toBeUndefined();
    expect(await suite.storage.replaceEndpointModels(missing, [CHAT], T1)).toBeUndefined();
    expect(await suite.storage.deleteEndpoint(missing)).toBe(false);
    expect(await suite.storage.changesSince(latest)).toStrictEqual({
      changes: [{ seq: afterB, subject_id: b.id, kind: 'endpoint' }],
      cursor: afterB,
    });
  });
}

/** Reading the feed in pages, and pruning it. */
export function feedReadCases(suite: Suite): void {
  it('pages with a limit, each page starting after the previous cursor', async () => {
    const records = [await suite.inserted(), await suite.inserted(), await suite.inserted()];
    await suite.storage.deleteEndpoint(records[0]!.id);
    await suite.storage.updateEndpoint(records[1]!.id, { notes: 'n' });
    const [everything, end] = await readAll(suite, 0);
    expect(everything).toHaveLength(5);
    expect(end).toBe(await suite.storage.latestChange());

    const first = await suite.storage.changesSince(0, 2);
    expect(first).toStrictEqual({ changes: everything.slice(0, 2), cursor: everything[1]!.seq });
    const second = await suite.storage.changesSince(first.cursor, 2);
    expect(second.changes).toStrictEqual(everything.slice(2, 4));
    expect(await readAll(suite, 0, 2)).toStrictEqual([everything, end]);
    expect(await readAll(suite, 0, 1)).toStrictEqual([everything, end]);
    expect((await suite.storage.changesSince(0, 0)).changes).toEqual([]);
  });

  it('deletes changes recorded strictly before a cutoff, never reusing positions', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    vi.setSystemTime(new Date(T0));
    const a = await suite.inserted();
    vi.setSystemTime(new Date(T1));
    await suite.storage.updateEndpoint(a.id, { notes: 'one' });
    vi.setSystemTime(new Date(T2));
    await suite.storage.updateEndpoint(a.id, { notes: 'two' });
    const latest = await suite.storage.latestChange();
    const [all] = await readAll(suite, 0);
    expect(all).toHaveLength(3);

    expect(await suite.storage.deleteChangesBefore(T1)).toBe(1);
    expect((await suite.storage.changesSince(0)).changes).toStrictEqual(all.slice(1));
    expect(await suite.storage.deleteChangesBefore(T1)).toBe(0);
    expect(await suite.storage.deleteChangesBefore(T3)).toBe(2);
    expect(await suite.storage.changesSince(0)).toStrictEqual({ changes: [], cursor: 0 });

    await suite.storage.deleteEndpoint(a.id);
    const [next] = (await suite.storage.changesSince(0)).changes;
    expect(next?.kind).toBe('deleted');
    expect(next!.seq).toBeGreaterThan(latest);
  });
}
