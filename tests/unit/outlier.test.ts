/**
 * Passive health on its own: suspension windows on a controlled monotonic clock, one strike per
 * window, and check results lifting or prolonging a suspension.
 */
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { HealthChecker } from '../../src/health/checker.js';
import { PassiveHealth } from '../../src/health/outlier.js';
import { toPublicEndpoint } from '../../src/schema.js';
import { memoryStorage } from '../../src/storage/memory/index.js';
import { EndpointStore } from '../../src/store.js';
import { makeEndpointRecord, makeHealthCheck } from '../helpers/records.js';

function setup() {
  let mono = 0;
  const clock: Clock = { now: () => 0, monotonic: () => mono, setTimeout: () => 0, clearTimeout: () => undefined };
  const checker = new HealthChecker();
  const store = new EndpointStore(memoryStorage());
  const strikes: string[] = [];
  const passive = new PassiveHealth({ clock, suspendMs: 1000, strike: (id) => strikes.push(id), checker, store });
  const at = (ms: number) => {
    mono = ms;
  };
  const check = (id: string, success: boolean) =>
    checker.emit('check', {
      endpoint: toPublicEndpoint(makeEndpointRecord({ id })),
      report: success
        ? { success: true, latency_ms: 1, model_ids: [], server: null }
        : { success: false, error: 'refused', kind: 'connection_refused', latency_ms: 1 },
      record: makeHealthCheck(id, { success }),
    });
  return { passive, strikes, at, check, store };
}

describe('PassiveHealth', () => {
  it('suspends a failed endpoint for suspendMs and strikes once per window', () => {
    const { passive, strikes, at } = setup();
    passive.failed('x');
    expect(strikes).toEqual(['x']);
    expect(passive.isSuspended('x', 999)).toBe(true);
    at(500);
    passive.failed('x'); // same window: extends, no new strike
    expect(strikes).toEqual(['x']);
    expect(passive.isSuspended('x', 1499)).toBe(true);
    expect(passive.isSuspended('x', 1500)).toBe(false);
    at(2000);
    expect(passive.suspendedUntil('x')).toBeNull();
    passive.failed('x'); // a new window: a new strike
    expect(strikes).toEqual(['x', 'x']);
  });

  it('a failed check prolongs a running suspension; a good one lifts it; none starts one', () => {
    const { passive, at, check } = setup();
    check('y', false);
    expect(passive.isSuspended('y', 0)).toBe(false);
    passive.failed('y');
    at(900);
    check('y', false);
    expect(passive.isSuspended('y', 1899)).toBe(true);
    check('y', true);
    expect(passive.isSuspended('y', 901)).toBe(false);
  });

  it('forgets a deleted endpoint', async () => {
    const { passive, store } = setup();
    await store.load();
    const record = await store.create(makeEndpointRecord());
    passive.failed(record.id);
    expect(passive.suspendedUntil(record.id)).not.toBeNull();
    await store.remove(record.id);
    expect(passive.suspendedUntil(record.id)).toBeNull();
  });
});
