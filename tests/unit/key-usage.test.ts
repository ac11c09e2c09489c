/**
 * The usage meter and the key limiter, on a fake clock: usage is written in batches (never per
 * request), a failed batch is kept, reads are exact while a batch is being written, and the
 * limiter's windows, Retry-After and shares are exact; usage and revoked keys go after 30 days.
 */
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { KeyLimiter } from '../../src/keys/limiter.js';
import { UsageMeter } from '../../src/keys/usage.js';
import { createRouter } from '../../src/router.js';
import type { KeyUsageRange, KeyUsageRow } from '../../src/storage/key-types.js';
import { memoryStorage } from '../../src/storage/memory/index.js';
import { FakeClock } from '../helpers/fake-clock.js';

const DAY: KeyUsageRange = { from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' };
const sample = (keyId = 'k1', model = 'm', tokens = 1) => ({ keyId, model, error: false, promptTokens: tokens, completionTokens: 2 * tokens });

/** A memory storage that counts (and can fail or hold) usage writes. */
function countingStorage() {
  const storage = memoryStorage();
  const state = { writes: 0, fail: false, hold: undefined as Promise<void> | undefined };
  const add = storage.addKeyUsage.bind(storage);
  storage.addKeyUsage = async (rows: readonly KeyUsageRow[]) => {
    state.writes++;
    if (state.hold) await state.hold;
    if (state.fail) throw new Error('database down');
    return add(rows);
  };
  return { storage, state };
}

describe('UsageMeter', () => {
  it('writes one batch per interval, however many requests, and nothing while idle', async () => {
    const clock = new FakeClock();
    const { storage, state } = countingStorage();
    const meter = new UsageMeter({ storage, clock, flushIntervalMs: 10_000, onError: () => {} });
    meter.start();
    expect(clock.pendingTimers).toBe(0);
    for (let i = 0; i < 500; i++) meter.record(sample('k1', i % 2 === 0 ? 'a' : 'b'));
    expect([state.writes, clock.pendingTimers]).toEqual([0, 1]);
    await clock.advance(10_000);
    expect(state.writes).toBe(1);
    expect(clock.pendingTimers).toBe(0);
    expect((await storage.listKeyUsage('k1', DAY)).map((r) => [r.model, r.requests, r.prompt_tokens])).toEqual([
      ['a', 250, 250],
      ['b', 250, 250],
    ]);
    meter.record(sample());
    await meter.stop();
    expect(state.writes).toBe(2);
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps a failed batch and writes it with the next one', async () => {
    const clock = new FakeClock();
    const { storage, state } = countingStorage();
    const errors: unknown[] = [];
    const meter = new UsageMeter({ storage, clock, flushIntervalMs: 1000, onError: (e) => errors.push(e) });
    meter.start();
    meter.record(sample('k1', 'm', 3));
    state.fail = true;
    await clock.advance(1000);
    expect(errors).toHaveLength(1);
    expect(await meter.read('k1', DAY)).toMatchObject([{ requests: 1, prompt_tokens: 3 }]);
    state.fail = false;
    meter.record(sample('k1', 'm', 4));
    await clock.advance(1000);
    expect(await storage.listKeyUsage('k1', DAY)).toMatchObject([{ requests: 2, prompt_tokens: 7, completion_tokens: 14 }]);
  });

  it('reads exactly while a batch is being written', async () => {
    const clock = new FakeClock();
    const { storage, state } = countingStorage();
    const meter = new UsageMeter({ storage, clock, flushIntervalMs: 1000, onError: () => {} });
    meter.start();
    for (let i = 0; i < 3; i++) meter.record(sample());
    let release!: () => void;
    state.hold = new Promise<void>((resolve) => (release = resolve));
    const flushing = meter.flush();
    meter.record(sample());
    const during = meter.read('k1', DAY);
    release();
    await flushing;
    expect((await during)[0]!.requests).toBe(4);
    expect((await meter.read('k1', DAY))[0]!.requests).toBe(4);
  });

  it('counts each hour apart', async () => {
    const clock = new FakeClock();
    const meter = new UsageMeter({ storage: memoryStorage(), clock, flushIntervalMs: 1000, onError: () => {} });
    meter.record(sample());
    await clock.advance(3_600_000);
    meter.record(sample());
    meter.record({ ...sample(), error: true });
    expect((await meter.read('k1', DAY)).map((r) => [r.hour, r.requests, r.errors])).toEqual([
      ['2026-01-01T00:00:00.000Z', 1, 0],
      ['2026-01-01T01:00:00.000Z', 2, 1],
    ]);
  });
});

describe('KeyLimiter', () => {
  it('admits exactly rpm requests in any sliding minute, with a Retry-After to the oldest one leaving', async () => {
    const clock = new FakeClock();
    // The limiter measures with the monotonic clock: here it follows the fake time.
    const steady: Clock = { now: () => clock.now(), monotonic: () => clock.now(), setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (h) => clock.clearTimeout(h) };
    const limiter = new KeyLimiter({ clock: steady, shares: () => 1 });
    const limits = { rpm: 3, max_concurrency: null };
    for (let i = 0; i < 3; i++) {
      limiter.admit('k', limits)();
      await clock.advance(10_000);
    }
    expect(() => limiter.admit('k', limits)).toThrow(expect.objectContaining({ code: 'rate_limited', retryAfterSecs: 30 }));
    await clock.advance(30_000); // the first admission leaves the minute
    limiter.admit('k', limits)();
    expect(() => limiter.admit('k', limits)).toThrow(expect.objectContaining({ retryAfterSecs: 10 }));
    expect(() => limiter.admit('other', limits)).not.toThrow();
  });

  it('counts concurrent requests until released (once), and shares limits among instances', () => {
    const clock = new FakeClock();
    let live = 1;
    const limiter = new KeyLimiter({ clock, shares: () => live });
    const limits = { rpm: null, max_concurrency: 3 };
    const releases = [limiter.admit('k', limits), limiter.admit('k', limits), limiter.admit('k', limits)];
    expect(() => limiter.admit('k', limits)).toThrow(expect.objectContaining({ code: 'rate_limited', retryAfterSecs: 1 }));
    releases[0]!();
    releases[0]!();
    expect(limiter.inFlight('k')).toBe(2);
    live = 2; // ceil(3 / 2) = 2 each
    expect(() => limiter.admit('k', limits)).toThrow();
    releases[1]!();
    limiter.admit('k', limits);
    expect(limiter.inFlight('k')).toBe(2);
  });
});

describe('retention of usage and revoked keys', () => {
  it('drops usage and revoked keys after 30 days, in storage and in the key list; live keys stay', async () => {
    const clock = new FakeClock();
    const storage = memoryStorage();
    const router = createRouter({ storage, clock, checker: { retentionIntervalMs: 86_400_000 } });
    await router.start();
    try {
      const revoked = await router.keys.create({ name: 'old', role: 'client' });
      const kept = await router.keys.create({ name: 'kept', role: 'client' });
      await router.keys.revoke(revoked.id);
      const hour = new Date(clock.now()).toISOString();
      const row = { model: 'm', hour, requests: 1, errors: 0, prompt_tokens: 1, completion_tokens: 1 };
      await storage.addKeyUsage([{ key_id: revoked.id, ...row }, { key_id: kept.id, ...row }]);

      await clock.advance(29 * 86_400_000);
      // Created in the same (fake) millisecond: listed in id order, so compare as a set.
      expect((await router.keys.list()).keys.map((k) => k.name).sort()).toEqual(['kept', 'old']);
      expect((await router.keys.usage(kept.id, { from: hour, to: new Date(clock.now()).toISOString() })).totals.requests).toBe(1);

      await clock.advance(2 * 86_400_000);
      expect((await router.keys.list()).keys.map((k) => k.name)).toEqual(['kept']);
      expect(await storage.getKey(revoked.id)).toBeUndefined();
      expect(await storage.getKey(kept.id)).toBeDefined();
      expect(await storage.listKeyUsage(kept.id, { from: '2000-01-01T00:00:00.000Z', to: '2100-01-01T00:00:00.000Z' })).toEqual([]);
      await expect(router.keys.get(revoked.id)).rejects.toMatchObject({ code: 'not_found' });
    } finally {
      await router.stop();
    }
  });
});
