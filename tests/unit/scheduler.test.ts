/**
 * The check scheduler with a real endpoint store on memory storage, a scripted check function
 * and a fake clock: when checks run, the owns() hook, reactions to store events, and stopping.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/health/check.js';
import { CheckScheduler, type SchedulerDeps } from '../../src/health/scheduler.js';
import type { EndpointRecord } from '../../src/schema.js';
import { memoryStorage } from '../../src/storage/memory/index.js';
import { EndpointStore } from '../../src/store.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { makeEndpointRecord } from '../helpers/records.js';

const OK: CheckResult = { report: { success: true, latency_ms: 1, model_ids: [], server: null } };
const FAILED: CheckResult = { report: { success: false, error: 'refused', kind: 'connection_refused', latency_ms: 1 } };

interface Harness {
  store: EndpointStore;
  clock: FakeClock;
  scheduler: CheckScheduler;
  /** Endpoint ids in the order they were checked. */
  checked: string[];
  owned: Set<string> | null;
}

let harness: Harness | undefined;

async function setup(records: EndpointRecord[], overrides: Partial<SchedulerDeps> = {}, result = OK): Promise<Harness> {
  const storage = memoryStorage();
  await storage.init();
  for (const record of records) await storage.insertEndpoint(record);
  const store = new EndpointStore(storage);
  await store.load();
  const clock = new FakeClock();
  const checked: string[] = [];
  const h: Harness = { store, clock, checked, owned: null, scheduler: undefined as unknown as CheckScheduler };
  h.scheduler = new CheckScheduler({
    store,
    clock,
    check: async (record) => {
      checked.push(record.id);
      return result;
    },
    owns: (id) => h.owned === null || h.owned.has(id),
    keepCadence: false,
    schedule: true,
    concurrency: 10,
    strikeRecheckMs: 2_000,
    onChecked: () => undefined,
    onError: (id, err) => {
      throw new Error(`unexpected check error for ${id}: ${String(err)}`);
    },
    ...overrides,
  });
  harness = h;
  return h;
}

afterEach(async () => {
  await harness?.scheduler.stop();
  harness = undefined;
});

describe('CheckScheduler', () => {
  it('checks every endpoint at start, then each on its own interval', async () => {
    const fast = makeEndpointRecord({ health_check_interval_secs: 10 });
    const slow = makeEndpointRecord({ health_check_interval_secs: 30 });
    const h = await setup([fast, slow]);
    h.scheduler.start();
    await h.scheduler.idle();
    expect(h.checked.sort()).toEqual([fast.id, slow.id].sort());
    h.checked.length = 0;
    await h.clock.advance(30_000);
    expect(h.checked.filter((id) => id === fast.id)).toHaveLength(3);
    expect(h.checked.filter((id) => id === slow.id)).toHaveLength(1);
  });

  it('asks owns() before every scheduled check and keeps the timer armed for endpoints it does not own', async () => {
    const mine = makeEndpointRecord({ health_check_interval_secs: 10 });
    const theirs = makeEndpointRecord({ health_check_interval_secs: 10 });
    const h = await setup([mine, theirs]);
    h.owned = new Set([mine.id]);
    h.scheduler.start();
    await h.scheduler.idle();
    await h.clock.advance(20_000);
    expect(h.checked.every((id) => id === mine.id)).toBe(true);
    expect(h.checked.length).toBeGreaterThanOrEqual(3);
    // Ownership moves (a lease changed hands): the next tick checks it.
    h.owned.add(theirs.id);
    await h.clock.advance(10_000);
    expect(h.checked).toContain(theirs.id);
  });

  it('keeps the cadence of peers when shared: the start-up round and a claimed endpoint wait for the interval', async () => {
    const clockStart = Date.parse('2026-01-01T00:00:00.000Z');
    const recent = makeEndpointRecord({ health_check_interval_secs: 10, last_seen: new Date(clockStart - 4_000).toISOString() });
    const stale = makeEndpointRecord({ health_check_interval_secs: 10, last_seen: new Date(clockStart - 60_000).toISOString() });
    const never = makeEndpointRecord({ health_check_interval_secs: 10 });
    const h = await setup([recent, stale, never], { keepCadence: true });
    h.owned = new Set([recent.id, stale.id]);
    h.scheduler.start();
    await h.scheduler.idle();
    expect(h.checked).toEqual([stale.id]);
    h.checked.length = 0;
    // The lease of `never` arrives: it never succeeded, so it is checked at once.
    h.owned.add(never.id);
    h.scheduler.claimed(never.id);
    await h.scheduler.idle();
    expect(h.checked).toEqual([never.id]);
    await h.clock.advance(5_999);
    expect(h.checked).toEqual([never.id]);
    await h.clock.advance(1);
    expect(h.checked).toEqual([never.id, recent.id]);
  });

  it('checks a new endpoint at once, re-checks on a new credential, re-plans on a new interval, forgets a deleted one', async () => {
    const h = await setup([]);
    h.scheduler.start();
    const record = await h.store.create(makeEndpointRecord({ health_check_interval_secs: 60 }));
    await h.scheduler.idle();
    expect(h.checked).toEqual([record.id]);

    await h.store.update(record.id, { api_key_encrypted: 'v1:sealed' });
    await h.scheduler.idle();
    expect(h.checked).toEqual([record.id, record.id]);

    await h.store.update(record.id, { health_check_interval_secs: 10 });
    await h.clock.advance(10_000);
    expect(h.checked).toHaveLength(3);

    await h.store.remove(record.id);
    expect(h.clock.pendingTimers).toBe(0);
    await h.clock.advance(120_000);
    expect(h.checked).toHaveLength(3);
  });

  it('after a failed strike check on a still-online endpoint, checks again after strikeRecheckMs', async () => {
    const record = makeEndpointRecord({ status: 'online', health_check_interval_secs: 300 });
    const h = await setup([record], { schedule: true }, FAILED);
    h.scheduler.start();
    await h.scheduler.idle();
    h.checked.length = 0;
    h.scheduler.strike(record.id);
    await h.scheduler.idle();
    expect(h.checked).toEqual([record.id]);
    await h.clock.advance(1_999);
    expect(h.checked).toHaveLength(1);
    await h.clock.advance(1);
    await h.scheduler.idle();
    expect(h.checked).toEqual([record.id, record.id]);
  });

  it('stop aborts running checks and arms nothing afterwards', async () => {
    const record = makeEndpointRecord();
    let aborted = false;
    const h = await setup([record], {
      check: (_record, signal) =>
        new Promise((resolve) =>
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve(OK);
          }),
        ),
    });
    h.scheduler.start();
    await h.scheduler.stop();
    expect(aborted).toBe(true);
    expect(h.clock.pendingTimers).toBe(0);
  });
});
