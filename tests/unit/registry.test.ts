import { describe, expect, it } from 'vitest';
import { Registry } from '../../src/registry.js';
import { type EndpointModel, type EndpointRecord, type EndpointStatus, offersCapability } from '../../src/schema.js';
import { makeEndpointModel, makeEndpointRecord } from '../helpers/records.js';

/** A stored endpoint in `status` (unique id, name and base_url). */
const endpoint = (status: EndpointStatus): EndpointRecord => makeEndpointRecord({ status });
const model = (endpointId: string, modelId: string): EndpointModel => makeEndpointModel(endpointId, modelId);

describe('Registry', () => {
  it('indexes models to endpoints and lists only online candidates', () => {
    const a = endpoint('online');
    const b = endpoint('offline');
    const registry = new Registry();
    registry.load([a, b], [model(a.id, 'llama'), model(b.id, 'llama'), model(b.id, 'qwen')]);
    expect(registry.endpointsFor('llama').map((e) => e.id).sort()).toEqual([a.id, b.id].sort());
    expect(registry.onlineEndpointsFor('llama').map((e) => e.id)).toEqual([a.id]);
    expect(registry.onlineEndpointsFor('qwen')).toEqual([]);
    expect(registry.hasModel('qwen')).toBe(true);
    expect(registry.hasModel('mistral')).toBe(false);
    expect(registry.modelIds()).toEqual(['llama', 'qwen']);
    expect(registry.modelCount(b.id)).toBe(2);
  });

  it('offers messages on every chat model, and nothing a model lacks', () => {
    const a = endpoint('online');
    const registry = new Registry();
    registry.load([a], [model(a.id, 'llama'), { ...model(a.id, 'bge-m3'), capabilities: ['embeddings'] }]);
    expect(registry.hasCapability(a.id, 'llama', 'messages')).toBe(true);
    expect(registry.onlineEndpointsFor('llama', 'messages').map((e) => e.id)).toEqual([a.id]);
    expect(registry.hasCapability(a.id, 'bge-m3', 'messages')).toBe(false);
    expect(registry.hasCapability(a.id, 'llama', 'embeddings')).toBe(false);
    expect(registry.hasCapability(a.id, 'llama', 'rerank')).toBe(false);
    expect(offersCapability(['messages'], 'messages')).toBe(true);
    expect(offersCapability(['messages'], 'chat')).toBe(false);
    expect(offersCapability(['audio'], 'image')).toBe(false);
  });

    it('reflects status changes in cached candidate lists', () => {
    const a = endpoint('online');
    const registry = new Registry();
    registry.load([a], [model(a.id, 'llama')]);
    const first = registry.onlineEndpointsFor('llama');
    expect(registry.onlineEndpointsFor('llama')).toBe(first);
    registry.upsertEndpoint({ ...a, status: 'offline' });
    expect(registry.onlineEndpointsFor('llama')).toEqual([]);
    registry.upsertEndpoint({ ...a, status: 'online', latency_ms: 5 });
    expect(registry.onlineEndpointsFor('llama')[0]?.latency_ms).toBe(5);
  });

  it('reflects model set changes and removal', () => {
    const a = endpoint('online');
    const registry = new Registry();
    registry.load([a], [model(a.id, 'llama')]);
    expect(registry.onlineEndpointsFor('llama')).toHaveLength(1);
    registry.setModels(a.id, [model(a.id, 'qwen')]);
    expect(registry.hasModel('llama')).toBe(false);
    expect(registry.onlineEndpointsFor('llama')).toEqual([]);
    expect(registry.onlineEndpointsFor('qwen')).toHaveLength(1);
    registry.removeEndpoint(a.id);
    expect(registry.hasModel('qwen')).toBe(false);
    expect(registry.getEndpoint(a.id)).toBeUndefined();
    expect(registry.size).toBe(0);
  });

  it('ignores models of unknown endpoints and filters by status', () => {
    const a = endpoint('pending');
    const registry = new Registry();
    registry.load([a], [model('ffffffff-0000-4000-8000-000000000000', 'ghost')]);
    expect(registry.hasModel('ghost')).toBe(false);
    expect(registry.listEndpoints('pending')).toHaveLength(1);
    expect(registry.listEndpoints('online')).toHaveLength(0);
  });

  it('keeps the index consistent at scale', () => {
    const registry = new Registry();
    const endpoints = Array.from({ length: 1000 }, (_, i) => endpoint(i % 2 === 0 ? 'online' : 'offline'));
    const models = endpoints.flatMap((e, i) => Array.from({ length: 10 }, (_, j) => model(e.id, `m${(i * 10 + j) % 500}`)));
    registry.load(endpoints, models);
    expect(registry.modelIds()).toHaveLength(500);
    for (const id of ['m0', 'm123', 'm499']) {
      const holders = registry.endpointsFor(id);
      expect(holders.length).toBe(20);
      expect(registry.onlineEndpointsFor(id).every((e) => e.status === 'online')).toBe(true);
    }
  });
});

describe('Registry version', () => {
  it('changes with what a model listing shows, not with routine checks', () => {
    const a = makeEndpointRecord({ status: 'online', latency_ms: 5 });
    const registry = new Registry();
    const m = (last_checked: string, capabilities = ['chat'], loaded: boolean | null = null) =>
      makeEndpointModel(a.id, 'm', { capabilities, last_checked, loaded });
    registry.load([a], [m('2026-01-01T00:00:00.000Z')]);
    const v0 = registry.version;
    registry.upsertEndpoint({ ...a, latency_ms: 9, last_seen: 'later' });
    registry.setModels(a.id, [m('2026-01-01T00:00:30.000Z')]);
    expect(registry.version).toBe(v0);
    expect(registry.modelOf(a.id, 'm')?.last_checked).toBe('2026-01-01T00:00:30.000Z');
    registry.upsertEndpoint({ ...a, status: 'offline' });
    const v1 = registry.version;
    expect(v1).toBeGreaterThan(v0);
    registry.setModels(a.id, [m('2026-01-01T00:01:00.000Z', ['embeddings'])]);
    const v2 = registry.version;
    expect(v2).toBeGreaterThan(v1);
    // Metadata shows in listings too: the model was loaded meanwhile.
    registry.setModels(a.id, [m('2026-01-01T00:01:30.000Z', ['embeddings'], true)]);
    expect(registry.version).toBeGreaterThan(v2);
    expect(registry.modelOf(a.id, 'm')?.loaded).toBe(true);
  });
});
