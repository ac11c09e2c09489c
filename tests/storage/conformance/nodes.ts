/** Conformance cases: self-registered nodes' details (`NodeStorage`). */
import { expect, it } from 'vitest';
import type { NodeRecord } from '../../../src/nodes/schema.js';
import { makeEndpointRecord, T0, T1 } from '../../helpers/records.js';
import { expectConflict, type Suite } from './suite.js';

/** A valid node record of `endpointId`: one GPU, one label, a digest, registered at {@link T0}. `overrides` win. */
export function makeNodeRecord(endpointId: string, overrides: Partial<NodeRecord> = {}): NodeRecord {
  return {
    endpoint_id: endpointId,
    runtime_type: 'ollama',
    runtime_version: '0.5.7',
    gpus: [{ model: 'NVIDIA L4', memory_mb: 23034 }],
    labels: { zone: 'a' },
    token_sha256: 'a'.repeat(64),
    previous_token_sha256: null,
    rotate_token: false,
    registered_at: T0,
    updated_at: T0,
    ...overrides,
  };
}

/** A pending endpoint and its node, inserted together. */
async function insertedNode(suite: Suite, overrides: Partial<NodeRecord> = {}) {
  const endpoint = makeEndpointRecord({ admin_state: 'pending_approval' });
  const node = makeNodeRecord(endpoint.id, overrides);
  await suite.storage.insertNode(endpoint, node);
  return { endpoint, node };
}

/** The kinds recorded in the feed after `cursor`, with their subjects. */
async function feedAfter(suite: Suite, cursor: number): Promise<[string, string][]> {
  const { changes } = await suite.storage.changesSince(cursor);
  return changes.map(({ subject_id, kind }) => [subject_id, kind]);
}

/** Inserting, reading and deleting nodes. */
export function nodeRowCases(suite: Suite): void {
  it('inserts a node with its endpoint, recording both in the feed', async () => {
    const before = await suite.storage.latestChange();
    const { endpoint, node } = await insertedNode(suite);
    expect(await suite.storage.getEndpoint(endpoint.id)).toStrictEqual(endpoint);
    expect(await suite.storage.getNode(endpoint.id)).toStrictEqual(node);
    expect(await suite.storage.listNodes()).toStrictEqual([node]);
    expect(await feedAfter(suite, before)).toEqual([
      [endpoint.id, 'endpoint'],
      [endpoint.id, 'node'],
    ]);
  });

  it('lists nodes by endpoint id; an endpoint without details has no node', async () => {
    const plain = await suite.inserted();
    const a = await insertedNode(suite, { rotate_token: true, runtime_version: null, gpus: [], labels: {} });
    const b = await insertedNode(suite, { previous_token_sha256: 'b'.repeat(64) });
    expect(await suite.storage.getNode(plain.id)).toBeUndefined();
    expect(await suite.storage.getNode('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    const expected = [a.node, b.node].sort((x, y) => (x.endpoint_id < y.endpoint_id ? -1 : 1));
    expect(await suite.storage.listNodes()).toStrictEqual(expected);
  });

  it('refuses a node whose endpoint name or base_url is taken, writing nothing', async () => {
    const taken = await suite.inserted();
    const before = await suite.storage.latestChange();
    const byName = makeEndpointRecord({ name: taken.name });
    await expectConflict(suite.storage.insertNode(byName, makeNodeRecord(byName.id)), { field: 'name', value: taken.name });
    const byUrl = makeEndpointRecord({ base_url: taken.base_url });
    await expectConflict(suite.storage.insertNode(byUrl, makeNodeRecord(byUrl.id)), { field: 'base_url', value: taken.base_url });
    expect(await suite.storage.listNodes()).toStrictEqual([]);
    expect(await suite.storage.listEndpoints()).toHaveLength(1);
    expect(await suite.storage.latestChange()).toBe(before);
  });

  it('deletes a node with its endpoint', async () => {
    const { endpoint } = await insertedNode(suite);
    const other = await insertedNode(suite);
    expect(await suite.storage.deleteEndpoint(endpoint.id)).toBe(true);
    expect(await suite.storage.getNode(endpoint.id)).toBeUndefined();
    expect(await suite.storage.listNodes()).toStrictEqual([other.node]);
  });

  it('copies nodes in and out', async () => {
    const endpoint = makeEndpointRecord();
    const node = makeNodeRecord(endpoint.id);
    const snapshot = structuredClone(node);
    await suite.storage.insertNode(endpoint, node);
    node.gpus[0]!.memory_mb = 1;
    node.labels.zone = 'mutated-input';
    (await suite.storage.getNode(endpoint.id))!.gpus.push({ model: 'x', memory_mb: 2 });
    (await suite.storage.listNodes())[0]!.labels.extra = 'mutated-list';
    const patch = { labels: { zone: 'b' } };
    const written = await suite.storage.updateNode(endpoint.id, patch);
    patch.labels.zone = 'mutated-patch';
    written!.node.labels.zone = 'mutated-result';
    expect(await suite.storage.getNode(endpoint.id)).toStrictEqual({ ...snapshot, labels: { zone: 'b' } });
  });
}

/** Updating nodes, alone or with their endpoint. */
export function nodeWriteCases(suite: Suite): void {
  it('updates only the node: the endpoint keeps its version, the feed gets a node change', async () => {
    const { endpoint, node } = await insertedNode(suite);
    const before = await suite.storage.latestChange();
    const written = await suite.storage.updateNode(endpoint.id, { token_sha256: 'c'.repeat(64), previous_token_sha256: node.token_sha256, rotate_token: false, updated_at: T1 });
    const expected = { ...node, token_sha256: 'c'.repeat(64), previous_token_sha256: node.token_sha256, updated_at: T1 };
    expect(written).toStrictEqual({ endpoint, node: expected });
    expect(await suite.storage.getNode(endpoint.id)).toStrictEqual(expected);
    expect(await suite.storage.getEndpoint(endpoint.id)).toStrictEqual(endpoint);
    expect(await feedAfter(suite, before)).toEqual([[endpoint.id, 'node']]);
  });

  it('updates the node and its endpoint in one write', async () => {
    const { endpoint, node } = await insertedNode(suite);
    const before = await suite.storage.latestChange();
    const written = await suite.storage.updateNode(endpoint.id, { rotate_token: true, gpus: [] }, { admin_state: 'enabled', updated_at: T1 });
    const stored = { ...endpoint, admin_state: 'enabled', updated_at: T1, version: 2 };
    expect(written).toStrictEqual({ endpoint: stored, node: { ...node, rotate_token: true, gpus: [] } });
    expect(await suite.storage.getEndpoint(endpoint.id)).toStrictEqual(stored);
    expect(await feedAfter(suite, before)).toEqual([
      [endpoint.id, 'endpoint'],
      [endpoint.id, 'node'],
    ]);
  });

  it('changes nothing for a missing node, or when the new endpoint name is taken', async () => {
    const plain = await suite.inserted();
    const { endpoint, node } = await insertedNode(suite);
    const before = await suite.storage.latestChange();
    expect(await suite.storage.updateNode(plain.id, { rotate_token: true }, { name: 'x' })).toBeUndefined();
    expect(await suite.storage.updateNode('00000000-0000-4000-8000-000000000000', { rotate_token: true })).toBeUndefined();
    await expectConflict(suite.storage.updateNode(endpoint.id, { rotate_token: true }, { name: plain.name }), { field: 'name', value: plain.name });
    expect(await suite.storage.getNode(endpoint.id)).toStrictEqual(node);
    expect(await suite.storage.getEndpoint(endpoint.id)).toStrictEqual(endpoint);
    expect(await suite.storage.getEndpoint(plain.id)).toStrictEqual(plain);
    expect(await suite.storage.latestChange()).toBe(before);
  });

  it('keeps nodes across a restart (adapters that persist)', async () => {
    const reopen = suite.reopen;
    if (!reopen) return;
    const { node } = await insertedNode(suite, { rotate_token: true });
    await suite.storage.close();
    const again = suite.track(await reopen());
    await again.init();
    expect(await again.listNodes()).toStrictEqual([node]);
  });
}
