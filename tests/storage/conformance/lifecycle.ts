/** Conformance cases: copies in and out, closing and reopening. */
import { expect, it } from 'vitest';
import type { DiscoveredModel } from '../../../src/schema.js';
import { makeEndpointRecord, makeHealthCheck, T1, T2, T3, makeEndpointModel } from '../../helpers/records.js';
import { CHAT, EMBED, expectConflict, type Suite } from './suite.js';

/** Records, models and checks are copied in and out. */
export function copyCases(suite: Suite): void {
  const inserted = suite.inserted;

  it('copies endpoint records in and out', async () => {
    const record = makeEndpointRecord({ notes: 'original' });
    const snapshot = { ...record };
    await suite.storage.insertEndpoint(record);
    record.name = 'mutated-input';
    record.notes = 'mutated-input';

    const got = await suite.storage.getEndpoint(snapshot.id);
    got!.name = 'mutated-get';
    const [listed] = await suite.storage.listEndpoints();
    listed!.status = 'error';
    const updated = await suite.storage.updateEndpoint(snapshot.id, { latency_ms: 1 });
    updated!.notes = 'mutated-update';
    const checked = await suite.storage.recordHealthCheck(snapshot.id, { error_count: 2 }, makeHealthCheck(snapshot.id));
    checked!.error_count = 99;

    expect(await suite.storage.getEndpoint(snapshot.id)).toStrictEqual({ ...snapshot, latency_ms: 1, error_count: 2, version: 3 });
  });

  it('copies models in and out', async () => {
    const record = await inserted();
    const models: DiscoveredModel[] = [{ model_id: 'm', capabilities: ['chat'] }];
    await suite.storage.replaceEndpointModels(record.id, models, T1);
    models[0]!.capabilities.push('mutated-input');
    models[0]!.model_id = 'renamed';

    const [listed] = await suite.storage.listEndpointModels(record.id);
    listed!.capabilities.push('mutated-list');
    listed!.last_checked = T3;
    const [all] = await suite.storage.listAllModels();
    all!.capabilities.length = 0;

    expect(await suite.storage.listEndpointModels(record.id)).toStrictEqual([
      makeEndpointModel(record.id, 'm', { capabilities: ['chat'], last_checked: T1 }),
    ]);
  });

  it('copies health checks in and out', async () => {
    const record = await inserted();
    const check = makeHealthCheck(record.id);
    const snapshot = { ...check };
    await suite.storage.recordHealthCheck(record.id, {}, check);
    check.success = false;
    check.error_message = 'mutated-input';
    const [listed] = await suite.storage.listHealthChecks(record.id);
    listed!.latency_ms = 9999;
    expect(await suite.storage.listHealthChecks(record.id)).toStrictEqual([snapshot]);
  });
}

/** Closing, and reopening on the same data. */
export function reopenCases(suite: Suite): void {
  const inserted = suite.inserted;

  it('closes idempotently, and keeps all data across a reopen when the adapter persists', async () => {
    const a = await inserted({ api_key_encrypted: 'v1:sealed', notes: 'keep me', status: 'online', latency_ms: 7 });
    await inserted({ registered_at: T1 });
    await suite.storage.replaceEndpointModels(a.id, [CHAT, EMBED], T1);
    const c1 = makeHealthCheck(a.id, { checked_at: T1 });
    const c2 = makeHealthCheck(a.id, { checked_at: T2, success: false, latency_ms: null, error_message: 'timeout' });
    await suite.storage.recordHealthCheck(a.id, {}, c1);
    await suite.storage.recordHealthCheck(a.id, {}, c2);
    const endpointsBefore = await suite.storage.listEndpoints();
    const modelsBefore = await suite.storage.listEndpointModels(a.id);

    await suite.storage.close();
    await suite.storage.close();
    if (suite.reopen === undefined) return;

    const reopened = await suite.reopen();
    suite.track(reopened);
    await reopened.init();
    expect(await reopened.listEndpoints()).toStrictEqual(endpointsBefore);
    expect(await reopened.getEndpoint(a.id)).toStrictEqual({ ...a, version: 3 });
    expect(await reopened.listEndpointModels(a.id)).toStrictEqual(modelsBefore);
    expect(await reopened.listHealthChecks(a.id)).toStrictEqual([c2, c1]);
    // Uniqueness still holds after the restart.
    await expectConflict(reopened.insertEndpoint(makeEndpointRecord({ name: a.name })), { field: 'name', value: a.name });
  });
}
