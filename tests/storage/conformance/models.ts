/** Conformance cases: model sets. */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { T1, T2, T3, makeEndpointModel } from '../../helpers/records.js';
import { byModelKey, CHAT, EMBED, type Suite } from './suite.js';

/** Replacing a model set. */
export function modelSetCases(suite: Suite): void {
  const inserted = suite.inserted;

  it('replaces the model set and reports the diff', async () => {
    const record = await inserted();
    expect(await suite.storage.listEndpointModels(record.id)).toEqual([]);

    const first = await suite.storage.replaceEndpointModels(record.id, [EMBED, CHAT], T1);
    expect(first).toStrictEqual({ added: [CHAT.model_id, EMBED.model_id], removed: [], updated: [] });
    expect(await suite.storage.listEndpointModels(record.id)).toStrictEqual([
      makeEndpointModel(record.id, CHAT.model_id, { capabilities: ['chat'], last_checked: T1 }),
      makeEndpointModel(record.id, EMBED.model_id, { capabilities: ['embeddings'], last_checked: T1 }),
    ]);

    const second = await suite.storage.replaceEndpointModels(
      record.id,
      [
        { model_id: 'qwen2.5:7b', capabilities: ['chat'] },
        { model_id: CHAT.model_id, capabilities: ['chat', 'tools'] },
      ],
      T2,
    );
    expect(second).toStrictEqual({ added: ['qwen2.5:7b'], removed: [EMBED.model_id], updated: [CHAT.model_id] });
    expect(await suite.storage.listEndpointModels(record.id)).toStrictEqual([
      makeEndpointModel(record.id, CHAT.model_id, { capabilities: ['chat', 'tools'], last_checked: T2 }),
      makeEndpointModel(record.id, 'qwen2.5:7b', { capabilities: ['chat'], last_checked: T2 }),
    ]);

    const cleared = await suite.storage.replaceEndpointModels(record.id, [], T3);
    expect(cleared).toStrictEqual({ added: [], removed: [CHAT.model_id, 'qwen2.5:7b'], updated: [] });
    expect(await suite.storage.listEndpointModels(record.id)).toEqual([]);
  });

  it('keeps each endpoint’s models separate', async () => {
    const a = await inserted();
    const b = await inserted();
    await suite.storage.replaceEndpointModels(a.id, [CHAT], T1);
    await suite.storage.replaceEndpointModels(b.id, [CHAT, EMBED], T2);
    const diff = await suite.storage.replaceEndpointModels(a.id, [EMBED], T3);
    expect(diff).toStrictEqual({ added: [EMBED.model_id], removed: [CHAT.model_id], updated: [] });
    expect((await suite.storage.listEndpointModels(b.id)).map((m) => m.model_id)).toEqual([CHAT.model_id, EMBED.model_id]);
  });

  it('handles large model sets', async () => {
    const record = await inserted();
    const models = Array.from({ length: 1500 }, (_, i) => ({
      model_id: `model-${String(i).padStart(4, '0')}`,
      capabilities: ['chat'],
    }));
    const diff = await suite.storage.replaceEndpointModels(record.id, models, T1);
    expect(diff?.added).toHaveLength(1500);
    const next = await suite.storage.replaceEndpointModels(record.id, models.slice(700), T2);
    expect(next?.removed).toHaveLength(700);
    expect(next?.updated).toHaveLength(800);
    expect(next?.added).toHaveLength(0);
    const stored = await suite.storage.listEndpointModels(record.id);
    expect(stored).toHaveLength(800);
    expect(stored.every((m) => m.last_checked === T2)).toBe(true);
  });

  it('stores each model’s metadata, and a change of metadata alone is a change of the set', async () => {
    const record = await inserted();
    const llava = {
      model_id: 'llava:7b',
      capabilities: ['chat', 'vision'],
      capabilities_source: 'backend' as const,
      context_length: 4096,
      loaded: false,
      size_bytes: 4_733_363_377,
      quantization: 'Q4_0',
    };
    await suite.storage.replaceEndpointModels(record.id, [llava, CHAT], T1);
    expect(await suite.storage.listEndpointModels(record.id)).toStrictEqual([
      makeEndpointModel(record.id, CHAT.model_id, { capabilities: ['chat'], last_checked: T1 }),
      { endpoint_id: record.id, last_checked: T1, ...llava },
    ]);
    const cursor = await suite.storage.latestChange();
    // Same facts: only last_checked moves, nothing in the feed.
    await suite.storage.replaceEndpointModels(record.id, [llava, CHAT], T2);
    expect((await suite.storage.changesSince(cursor)).changes).toEqual([]);
    // Loaded meanwhile: the row is rewritten and the change is recorded.
    const diff = await suite.storage.replaceEndpointModels(record.id, [{ ...llava, loaded: true }, CHAT], T3);
    expect(diff).toStrictEqual({ added: [], removed: [], updated: [CHAT.model_id, 'llava:7b'] });
    expect((await suite.storage.changesSince(cursor)).changes).toEqual([expect.objectContaining({ subject_id: record.id, kind: 'models' })]);
    expect((await suite.storage.listAllModels()).find((m) => m.model_id === 'llava:7b')).toStrictEqual({
      endpoint_id: record.id,
      last_checked: T3,
      ...llava,
      loaded: true,
    });
  });

  it('returns undefined for a missing endpoint and writes nothing', async () => {
    const missing = randomUUID();
    expect(await suite.storage.replaceEndpointModels(missing, [CHAT], T1)).toBeUndefined();
    expect(await suite.storage.listEndpointModels(missing)).toEqual([]);
    expect(await suite.storage.listAllModels()).toEqual([]);
  });
}

/** Listing models. */
export function modelListCases(suite: Suite): void {
  const inserted = suite.inserted;

  it('orders models by model id', async () => {
    const record = await inserted();
    const ids = ['mistral', 'Llama', 'bge-m3', 'a:latest', 'zeta', '0-model'];
    await suite.storage.replaceEndpointModels(
      record.id,
      ids.map((model_id) => ({ model_id, capabilities: ['chat'] })),
      T1,
    );
    const expected = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect((await suite.storage.listEndpointModels(record.id)).map((m) => m.model_id)).toEqual(expected);
  });

  it('lists every model of every endpoint', async () => {
    const a = await inserted();
    const b = await inserted();
    expect(await suite.storage.listAllModels()).toEqual([]);
    await suite.storage.replaceEndpointModels(a.id, [CHAT, EMBED], T1);
    await suite.storage.replaceEndpointModels(b.id, [CHAT], T2);
    const all = await suite.storage.listAllModels();
    expect([...all].sort(byModelKey)).toStrictEqual(
      [
        makeEndpointModel(a.id, CHAT.model_id, { capabilities: ['chat'], last_checked: T1 }),
        makeEndpointModel(a.id, EMBED.model_id, { capabilities: ['embeddings'], last_checked: T1 }),
        makeEndpointModel(b.id, CHAT.model_id, { capabilities: ['chat'], last_checked: T2 }),
      ].sort(byModelKey),
    );
  });
}
