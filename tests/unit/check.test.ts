/**
 * `runCheck` on its own: a probe function, an in-memory stand-in for the store's two operations
 * and a fake clock — no router, no network.
 */
import { describe, expect, it } from 'vitest';
import { type CheckDeps, type CheckStore, runCheck } from '../../src/health/check.js';
import type { Probe, ProbeResult, ProbeTarget } from '../../src/health/probe.js';
import type { EndpointHealthCheck, EndpointPatch, EndpointRecord } from '../../src/schema.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { makeEndpointRecord } from '../helpers/records.js';

/** A store holding one record; records every write. */
function fakeStore(record: EndpointRecord | undefined): CheckStore & { writes: { patch: EndpointPatch; check: EndpointHealthCheck }[] } {
  let current = record;
  const writes: { patch: EndpointPatch; check: EndpointHealthCheck }[] = [];
  return {
    writes,
    registry: { getEndpoint: (id) => (current?.id === id ? current : undefined) },
    async recordCheck(id, patch, check) {
      if (current?.id !== id) return undefined;
      writes.push({ patch, check });
      current = { ...current, ...patch, version: current.version + 1 };
      return current;
    },
  };
}

function deps(store: CheckStore, result: ProbeResult, synced: string[][] = [], targets: ProbeTarget[] = []): CheckDeps {
  const probe: Probe = async (target) => {
    targets.push(target);
    return result;
  };
  return {
    store,
    probe,
    clock: new FakeClock(),
    secretBox: null,
    detected: new Map(),
    sync: async (_id, models) => {
      const ids = models.map((m) => (typeof m === 'string' ? m : m.model_id));
      synced.push(ids);
      return { added: ids, removed: [], updated: [] };
    },
  };
}

const OK: ProbeResult = { ok: true, latencyMs: 12, modelIds: ['llama3.1:8b'], server: 'ollama' };
const DOWN: ProbeResult = { ok: false, kind: 'connection_refused', message: 'connection refused', latencyMs: 1 };

describe('runCheck', () => {
  it('records a success: online, latency, last_seen, last_error cleared, one history row, models synced', async () => {
    const record = makeEndpointRecord({ status: 'offline', error_count: 3, last_error: 'connection refused' });
    const store = fakeStore(record);
    const synced: string[][] = [];
    const result = await runCheck(deps(store, OK, synced), record, new AbortController().signal);
    expect(result.report).toEqual({ success: true, latency_ms: 12, model_ids: ['llama3.1:8b'], server: 'ollama' });
    expect(result.recorded?.endpoint).toMatchObject({ status: 'online', error_count: 0, latency_ms: 12, last_error: null });
    expect(result.recorded?.previous.status).toBe('offline');
    expect(store.writes).toHaveLength(1);
    expect(store.writes[0]?.check).toMatchObject({ success: true, latency_ms: 12, status_before: 'offline', status_after: 'online' });
    expect(synced).toEqual([['llama3.1:8b']]);
  });

  it('records a failure with the status rules and keeps the models', async () => {
    const record = makeEndpointRecord({ status: 'online', error_count: 0, latency_ms: 5 });
    const store = fakeStore(record);
    const synced: string[][] = [];
    const result = await runCheck(deps(store, DOWN, synced), record, new AbortController().signal);
    expect(result.report).toMatchObject({ success: false, kind: 'connection_refused' });
    // One failure keeps an online endpoint online; latency stays what it was.
    expect(result.recorded?.endpoint).toMatchObject({ status: 'online', error_count: 1, last_error: 'connection refused', latency_ms: 5 });
    expect(store.writes[0]?.check).toMatchObject({ success: false, error_message: 'connection refused', latency_ms: null });
    expect(synced).toEqual([]);
  });

  it('applies the rules to the state at the end of the probe, and records nothing for a vanished endpoint', async () => {
    const record = makeEndpointRecord({ status: 'pending' });
    const gone = fakeStore(undefined);
    expect(await runCheck(deps(gone, OK), record, new AbortController().signal)).toEqual({ report: expect.objectContaining({ success: true }) });
    expect(gone.writes).toHaveLength(0);
  });

  it('records nothing when the check was aborted (router stopping)', async () => {
    const record = makeEndpointRecord();
    const store = fakeStore(record);
    const controller = new AbortController();
    controller.abort();
    const result = await runCheck(deps(store, DOWN), record, controller.signal);
    expect(result.recorded).toBeUndefined();
    expect(store.writes).toHaveLength(0);
  });

  it('does not sync when sync is off', async () => {
    const record = makeEndpointRecord();
    const store = fakeStore(record);
    const result = await runCheck({ ...deps(store, OK), sync: null }, record, new AbortController().signal);
    expect(result.recorded?.endpoint.status).toBe('online');
  });

  it('detects the type on the first check and when the endpoint comes back, stores a new one, keeps an admin\'s', async () => {
    const vllm: ProbeResult = { ...OK, backend: { type: 'vllm', models: [{ model_id: 'm', capabilities: null, context_length: 8192 }], load: null } };
    const record = makeEndpointRecord({ status: 'pending' });
    const store = fakeStore(record);
    const targets: ProbeTarget[] = [];
    const checkDeps = deps(store, vllm, [], targets);
    const first = await runCheck(checkDeps, record, new AbortController().signal);
    expect(first.recorded?.endpoint).toMatchObject({ type: 'vllm', type_source: 'detected' });
    // Known now: the next check of the online endpoint does not detect again.
    await runCheck(checkDeps, first.recorded!.endpoint, new AbortController().signal);
    expect(targets.map((t) => t.detect)).toEqual([true, false]);
    expect(store.writes[1]?.patch.type).toBeUndefined();
    // Back from offline: detect again.
    await runCheck(checkDeps, { ...first.recorded!.endpoint, status: 'offline' }, new AbortController().signal);
    expect(targets[2]?.detect).toBe(true);

    const pinned = makeEndpointRecord({ status: 'pending', type: 'sglang', type_source: 'admin' });
    const pinnedStore = fakeStore(pinned);
    const pinnedTargets: ProbeTarget[] = [];
    const result = await runCheck(deps(pinnedStore, vllm, [], pinnedTargets), pinned, new AbortController().signal);
    expect(pinnedTargets[0]).toMatchObject({ type: 'sglang', type_source: 'admin', detect: false });
    expect(result.recorded?.endpoint).toMatchObject({ type: 'sglang', type_source: 'admin' });
  });
});
