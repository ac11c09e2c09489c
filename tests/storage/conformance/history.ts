/** Conformance cases: health checks and their history. */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { EndpointRecord } from '../../../src/schema.js';
import { makeHealthCheck, T0, T1, T2, T3 } from '../../helpers/records.js';
import { CHAT, EMBED, type Suite } from './suite.js';

/** Recording checks, and deleting old ones. */
export function checkRecordingCases(suite: Suite): void {
  const inserted = suite.inserted;

  it('records a check: updates the endpoint and appends exactly one row', async () => {
    const record = await inserted();
    const check = makeHealthCheck(record.id, { checked_at: T1, latency_ms: 12 });
    const patch = { status: 'online', latency_ms: 12, last_seen: T1, error_count: 0, updated_at: T1 } as const;
    const updated = await suite.storage.recordHealthCheck(record.id, patch, check);
    const expected: EndpointRecord = { ...record, ...patch, version: 2 };
    expect(updated).toStrictEqual(expected);
    expect(await suite.storage.getEndpoint(record.id)).toStrictEqual(expected);
    expect(await suite.storage.listHealthChecks(record.id)).toStrictEqual([check]);

    const failure = makeHealthCheck(record.id, {
      checked_at: T2,
      success: false,
      latency_ms: null,
      error_message: 'HTTP 503',
      status_before: 'online',
      status_after: 'online',
    });
    const afterFailure = await suite.storage.recordHealthCheck(
      record.id,
      { error_count: 1, last_error: 'HTTP 503', updated_at: T2 },
      failure,
    );
    expect(afterFailure).toStrictEqual({ ...expected, error_count: 1, last_error: 'HTTP 503', updated_at: T2, version: 3 });
    const history = await suite.storage.listHealthChecks(record.id);
    expect(history).toStrictEqual([failure, check]);
    expect(history[0]?.success).toBe(false);
    expect(history[1]?.success).toBe(true);
  });

  it('records a check with an empty patch', async () => {
    const record = await inserted();
    const check = makeHealthCheck(record.id);
    expect(await suite.storage.recordHealthCheck(record.id, {}, check)).toStrictEqual({ ...record, version: 2 });
    expect(await suite.storage.listHealthChecks(record.id)).toStrictEqual([check]);
  });

  it('writes nothing and returns undefined for a deleted endpoint', async () => {
    const record = await inserted();
    const other = await inserted();
    await suite.storage.deleteEndpoint(record.id);
    const result = await suite.storage.recordHealthCheck(
      record.id,
      { status: 'online', updated_at: T2 },
      makeHealthCheck(record.id),
    );
    expect(result).toBeUndefined();
    expect(await suite.storage.getEndpoint(record.id)).toBeUndefined();
    expect(await suite.storage.listHealthChecks(record.id)).toEqual([]);
    expect(await suite.storage.listEndpoints()).toStrictEqual([other]);
    expect(await suite.storage.deleteHealthChecksBefore('9999-12-31T23:59:59.999Z')).toBe(0);
  });

  it('deletes history strictly older than the cutoff and returns the count', async () => {
    const a = await inserted();
    const b = await inserted();
    const a1 = makeHealthCheck(a.id, { checked_at: T1 });
    const a2 = makeHealthCheck(a.id, { checked_at: T2 });
    const a3 = makeHealthCheck(a.id, { checked_at: T3 });
    const b1 = makeHealthCheck(b.id, { checked_at: T0 });
    const b2 = makeHealthCheck(b.id, { checked_at: T2 });
    for (const c of [a1, a2, a3]) await suite.storage.recordHealthCheck(a.id, {}, c);
    for (const c of [b1, b2]) await suite.storage.recordHealthCheck(b.id, {}, c);

    expect(await suite.storage.deleteHealthChecksBefore(T2)).toBe(2);
    expect(await suite.storage.listHealthChecks(a.id)).toStrictEqual([a3, a2]);
    expect(await suite.storage.listHealthChecks(b.id)).toStrictEqual([b2]);
    expect(await suite.storage.deleteHealthChecksBefore(T2)).toBe(0);
    expect(await suite.storage.deleteHealthChecksBefore(T0)).toBe(0);
    // The endpoints themselves are untouched.
    expect(await suite.storage.listEndpoints()).toHaveLength(2);
  });
}

/** Listing history: order, limits and pages. */
export function historyPageCases(suite: Suite): void {
  const inserted = suite.inserted;

  it('lists history newest first, with an optional limit', async () => {
    const record = await inserted();
    const other = await inserted();
    const [c1, c2, c3] = [T1, T2, T3].map((checked_at) => makeHealthCheck(record.id, { checked_at }));
    for (const c of [c1!, c3!, c2!]) await suite.storage.recordHealthCheck(record.id, {}, c);
    await suite.storage.recordHealthCheck(other.id, {}, makeHealthCheck(other.id, { checked_at: T3 }));

    expect(await suite.storage.listHealthChecks(record.id)).toStrictEqual([c3, c2, c1]);
    expect(await suite.storage.listHealthChecks(record.id, { limit: 2 })).toStrictEqual([c3, c2]);
    expect(await suite.storage.listHealthChecks(record.id, { limit: 1 })).toStrictEqual([c3]);
    expect(await suite.storage.listHealthChecks(record.id, { limit: 10 })).toStrictEqual([c3, c2, c1]);
    expect(await suite.storage.listHealthChecks(record.id, {})).toHaveLength(3);
    expect(await suite.storage.listHealthChecks(other.id)).toHaveLength(1);
    expect(await suite.storage.listHealthChecks(randomUUID())).toEqual([]);
  });

  it('lists only checks strictly before `before`, newest first', async () => {
    const record = await inserted();
    const checks = [T0, T1, T2, T3].map((checked_at) => makeHealthCheck(record.id, { checked_at }));
    for (const c of checks) await suite.storage.recordHealthCheck(record.id, {}, c);
    const [c0, c1, c2, c3] = checks;
    expect(await suite.storage.listHealthChecks(record.id, { before: T2 })).toStrictEqual([c1, c0]);
    expect(await suite.storage.listHealthChecks(record.id, { before: T2, limit: 1 })).toStrictEqual([c1]);
    expect(await suite.storage.listHealthChecks(record.id, { before: '9999-01-01T00:00:00.000Z' })).toStrictEqual([c3, c2, c1, c0]);
    expect(await suite.storage.listHealthChecks(record.id, { before: T0 })).toEqual([]);
    expect(await suite.storage.listHealthChecks(record.id, { limit: 0 })).toEqual([]);
  });

  it('walks the whole history page by page', async () => {
    const record = await inserted();
    const times = Array.from({ length: 8 }, (_, i) => new Date(Date.parse(T0) + i * 1000).toISOString());
    // Recorded out of order: the listing orders by time, not by insertion.
    const checks = [5, 0, 7, 2, 1, 6, 3, 4].map((i) => makeHealthCheck(record.id, { checked_at: times[i]! }));
    for (const c of checks) await suite.storage.recordHealthCheck(record.id, {}, c);
    const newestFirst = [...checks].sort((a, b) => (a.checked_at < b.checked_at ? 1 : -1));

    const pages: string[][] = [];
    let before: string | undefined;
    for (;;) {
      const page = await suite.storage.listHealthChecks(record.id, { limit: 3, before });
      if (page.length === 0) break;
      pages.push(page.map((c) => c.id));
      before = page.at(-1)!.checked_at;
    }
    expect(pages.map((p) => p.length)).toEqual([3, 3, 2]);
    expect(pages.flat()).toEqual(newestFirst.map((c) => c.id));
  });

  it('lists checks with equal times latest recorded first', async () => {
    const record = await inserted();
    const older = makeHealthCheck(record.id, { checked_at: T1 });
    const tied = Array.from({ length: 3 }, () => makeHealthCheck(record.id, { checked_at: T2 }));
    for (const c of [tied[0]!, older, tied[1]!, tied[2]!]) await suite.storage.recordHealthCheck(record.id, {}, c);
    const [first, second, third] = tied;
    expect(await suite.storage.listHealthChecks(record.id)).toStrictEqual([third, second, first, older]);
    expect(await suite.storage.listHealthChecks(record.id, { limit: 2 })).toStrictEqual([third, second]);
    // `before` is strict: it skips every check at that time.
    expect(await suite.storage.listHealthChecks(record.id, { before: T2 })).toStrictEqual([older]);
  });
}

/** Deleting an endpoint deletes its models and history. */
export function cascadeCases(suite: Suite): void {
  const inserted = suite.inserted;

  it('deletes an endpoint’s models and history with it', async () => {
    const record = await inserted();
    const other = await inserted();
    await suite.storage.replaceEndpointModels(record.id, [CHAT, EMBED], T1);
    await suite.storage.replaceEndpointModels(other.id, [CHAT], T1);
    await suite.storage.recordHealthCheck(record.id, { status: 'online' }, makeHealthCheck(record.id, { checked_at: T1 }));
    await suite.storage.recordHealthCheck(record.id, {}, makeHealthCheck(record.id, { checked_at: T2 }));
    const otherCheck = makeHealthCheck(other.id, { checked_at: T1 });
    await suite.storage.recordHealthCheck(other.id, {}, otherCheck);

    expect(await suite.storage.deleteEndpoint(record.id)).toBe(true);
    expect(await suite.storage.listEndpointModels(record.id)).toEqual([]);
    expect(await suite.storage.listHealthChecks(record.id)).toEqual([]);
    expect((await suite.storage.listAllModels()).map((m) => m.endpoint_id)).toEqual([other.id]);
    expect(await suite.storage.listHealthChecks(other.id)).toStrictEqual([otherCheck]);
    // Only the other endpoint's row is left to expire.
    expect(await suite.storage.deleteHealthChecksBefore('9999-12-31T23:59:59.999Z')).toBe(1);

    // Re-registering the same endpoint starts from a clean slate.
    await suite.storage.insertEndpoint(record);
    expect(await suite.storage.listEndpointModels(record.id)).toEqual([]);
    expect(await suite.storage.listHealthChecks(record.id)).toEqual([]);
  });
}
