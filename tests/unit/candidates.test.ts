/** ModelCandidates: a requested name's candidates (an alias: its targets' together) and each endpoint's model id. */
import { describe, expect, it } from 'vitest';
import { AliasTable } from '../../src/alias-table.js';
import { reachability } from '../../src/health/reachability.js';
import { ModelCandidates } from '../../src/proxy/candidates.js';
import { Registry } from '../../src/registry.js';
import { type EndpointModel, modelMetadata } from '../../src/schema.js';
import { memoryStorage } from '../../src/storage/memory/index.js';
import { makeEndpointRecord, T0 } from '../helpers/records.js';

const model = (endpointId: string, modelId: string, capabilities = ['chat']): EndpointModel => ({
  endpoint_id: endpointId,
  model_id: modelId,
  capabilities,
  last_checked: T0,
  ...modelMetadata({}),
});

/** A registry with an Ollama-named, a vLLM-named and a both-named endpoint, and an alias table. */
async function setup() {
  const [ollama, vllm, both, down] = [0, 1, 2, 3].map((n) => makeEndpointRecord({ status: n === 3 ? 'offline' : 'online' }));
  const registry = new Registry();
  registry.load(
    [ollama!, vllm!, both!, down!],
    [
      model(ollama!.id, 'llama3.1:8b'),
      model(ollama!.id, 'nomic-embed-text', ['embeddings']),
      model(vllm!.id, 'meta-llama/Llama-3.1-8B-Instruct'),
      model(both!.id, 'meta-llama/Llama-3.1-8B-Instruct'),
      model(both!.id, 'llama3.1:8b'),
      model(down!.id, 'llama3.1:8b'),
    ],
  );
  const aliases = new AliasTable(memoryStorage(), { followRecords: () => undefined });
  const record = { created_at: T0, updated_at: T0, version: 1 };
  await aliases.create({ name: 'llama3.1', targets: ['llama3.1:8b', 'meta-llama/Llama-3.1-8B-Instruct'], ...record });
  await aliases.create({ name: 'unserved', targets: ['nowhere'], ...record });
  return { registry, aliases, candidates: new ModelCandidates(registry, aliases), ollama: ollama!, vllm: vllm!, both: both!, down: down! };
}

describe('ModelCandidates', () => {
  it('unites the routable endpoints of an alias\'s targets, each once, and caches the union until a list changes', async () => {
    const { registry, candidates, ollama, vllm, both } = await setup();
    const union = candidates.online('llama3.1', 'chat');
    expect(union.map((e) => e.id)).toEqual([ollama.id, both.id, vllm.id]);
    expect(Object.isFrozen(union)).toBe(true);
    expect(candidates.online('llama3.1', 'chat')).toBe(union);
    registry.upsertEndpoint({ ...vllm, status: 'offline', version: vllm.version + 1 });
    expect(candidates.online('llama3.1', 'chat').map((e) => e.id)).toEqual([ollama.id, both.id]);
    // A plain model id is the registry's own list.
    expect(candidates.online('llama3.1:8b', 'chat')).toBe(registry.onlineEndpointsFor('llama3.1:8b', 'chat'));
  });

  it('follows a change of the alias at once', async () => {
    const { aliases, candidates, vllm, both } = await setup();
    candidates.online('llama3.1', 'chat');
    await aliases.update('llama3.1', { targets: ['meta-llama/Llama-3.1-8B-Instruct'], updated_at: T0 });
    expect(candidates.online('llama3.1', 'chat').map((e) => e.id)).toEqual([vllm.id, both.id]);
    await aliases.remove('llama3.1');
    expect(candidates.known('llama3.1')).toBe(false);
  });

  it('sends each endpoint its first target in the alias\'s order that it serves with the capability', async () => {
    const { candidates, ollama, vllm, both } = await setup();
    expect(candidates.upstreamModel('llama3.1', ollama.id, 'chat')).toBe('llama3.1:8b');
    expect(candidates.upstreamModel('llama3.1', vllm.id, 'chat')).toBe('meta-llama/Llama-3.1-8B-Instruct');
    expect(candidates.upstreamModel('llama3.1', both.id, 'chat')).toBe('llama3.1:8b');
    expect(candidates.upstreamModel('llama3.1:8b', ollama.id, 'chat')).toBeUndefined();
  });

  it('tells a name that is known, served, and served with a capability apart', async () => {
    const { candidates } = await setup();
    expect([candidates.known('llama3.1'), candidates.served('llama3.1'), candidates.supports('llama3.1', 'chat')]).toEqual([true, true, true]);
    expect(candidates.supports('llama3.1', 'embeddings')).toBe(false);
    expect([candidates.known('unserved'), candidates.served('unserved')]).toEqual([true, false]);
    expect(candidates.online('unserved', 'chat')).toEqual([]);
    expect([candidates.known('nothing'), candidates.served('nothing')]).toEqual([false, false]);
  });
});

describe('reachability (endpoints with a static model list)', () => {
  const ids = ['static-a'];
  it('passes on any answer below 500 and keeps the static ids', () => {
    expect(reachability({ ok: false, kind: 'http_status', status: 404, message: 'HTTP 404', latencyMs: 3 }, ids)).toEqual({ ok: true, latencyMs: 3, modelIds: ids, server: null });
    expect(reachability({ ok: false, kind: 'not_a_model_list', message: 'not a list', latencyMs: 4 }, ids)).toMatchObject({ ok: true, modelIds: ids });
    expect(reachability({ ok: true, latencyMs: 5, modelIds: ['listed'], server: 'x' }, ids)).toEqual({ ok: true, latencyMs: 5, modelIds: ids, server: 'x' });
  });

  it('still fails on 5xx, a refused credential and transport errors', () => {
    for (const failure of [
      { ok: false, kind: 'http_status', status: 502, message: 'HTTP 502', latencyMs: 1 },
      { ok: false, kind: 'unauthorized', status: 401, message: 'HTTP 401', latencyMs: 1 },
      { ok: false, kind: 'connection_refused', message: 'refused', latencyMs: 1 },
      { ok: false, kind: 'timeout', message: 'timeout', latencyMs: 1 },
    ] as const) {
      expect(reachability(failure, ids)).toBe(failure);
    }
  });
});
