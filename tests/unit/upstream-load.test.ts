import { describe, expect, it } from 'vitest';
import { LoadBoard, NO_FIGURES, type LoadFigures } from '../../src/load-signals.js';
import { EndpointStats } from '../../src/proxy/stats.js';
import { expectedLatencySelector } from '../../src/select/expected-latency.js';
import type { SelectionCandidate, SelectionContext } from '../../src/select/types.js';
import { effectiveLoad, externalRequests, isQueueing, kvPressure, upstreamTrust } from '../../src/select/upstream-load.js';

const NOW = 1_000_000;
const candidate = (id: string, interval = 10): SelectionCandidate => ({
  id,
  name: id,
  base_url: `http://127.0.0.1/${id}`,
  status: 'online',
  latency_ms: 1,
  max_concurrency: null,
  priority: 0,
  weight: 1,
  health_check_interval_secs: interval,
});

/** A board with one check report per endpoint, read `ageMs` before NOW. */
function boardWith(reports: Record<string, Partial<LoadFigures>>, ageMs = 0): { board: LoadBoard; stats: EndpointStats } {
  const board = new LoadBoard();
  for (const [id, figures] of Object.entries(reports)) board.report(id, { ...NO_FIGURES, ...figures }, 'check', NOW - ageMs);
  return { board, stats: new EndpointStats(board) };
}

describe('upstream load figures', () => {
  it('are trusted fully when just read, less with age, and not at all after three check intervals', () => {
    expect(upstreamTrust({ observed_at: NOW }, 10, NOW)).toBe(1);
    expect(upstreamTrust({ observed_at: NOW - 15_000 }, 10, NOW)).toBeCloseTo(0.5);
    expect(upstreamTrust({ observed_at: NOW - 30_000 }, 10, NOW)).toBe(0);
    expect(upstreamTrust({ observed_at: NOW - 30_000 }, 60, NOW)).toBeCloseTo(5 / 6);
    // A clock step backwards does not make figures more than fully trusted.
    expect(upstreamTrust({ observed_at: NOW + 5_000 }, 10, NOW)).toBe(1);
  });

  it('count the requests llmlb did not send: running beyond its own, busy slots, and the waiting queue', () => {
    const report = (figures: Partial<LoadFigures>) => ({ ...NO_FIGURES, ...figures, source: 'check' as const, observed_at: NOW });
    expect(externalRequests(report({ running: 6, waiting: 3 }), 2)).toBe(7);
    expect(externalRequests(report({ running: 2, waiting: 0 }), 5)).toBe(0);
    expect(externalRequests(report({ slots_busy: 4, slots_total: 4 }), 1)).toBe(3);
    expect(externalRequests(report({ loaded_models: ['m'] }), 0)).toBe(0);
  });

  it('add to llmlb\'s own in-flight as the effective load, by trust', () => {
    const { stats } = boardWith({ a: { running: 8, waiting: 2 } }, 15_000);
    stats.started('a', 0, true);
    stats.started('a', 0, true);
    // 2 own + 0.5 × (8 + 2 − 2) others.
    expect(effectiveLoad(candidate('a'), stats, NOW)).toBeCloseTo(6);
    expect(effectiveLoad(candidate('b'), stats, NOW)).toBe(0);
    expect(effectiveLoad(candidate('a'), stats, NOW + 30_000)).toBe(2);
  });

  it('say when a server is queueing and how full its KV cache is', () => {
    const { stats } = boardWith({ q: { waiting: 1 }, full: { slots_busy: 2, slots_total: 2 }, free: { slots_busy: 1, slots_total: 2, kv_cache_usage: 0.95 } });
    expect(isQueueing(candidate('q'), stats, NOW)).toBe(true);
    expect(isQueueing(candidate('full'), stats, NOW)).toBe(true);
    expect(isQueueing(candidate('free'), stats, NOW)).toBe(false);
    expect(isQueueing(candidate('q'), stats, NOW + 60_000)).toBe(false);
    expect(kvPressure(candidate('free'), stats, NOW)).toBeCloseTo(0.5);
    expect(kvPressure(candidate('q'), stats, NOW)).toBe(0);
  });
});

describe('expectedLatencySelector with published load', () => {
  const ctx = (stats: EndpointStats, wallNow = NOW): SelectionContext => ({ model: 'm', capability: 'chat', stream: true, stats, now: 0, wallNow });
  /** Both endpoints learned the same curve: 100 ms with up to 3 running, climbing after. */
  function sameCurves(stats: EndpointStats): void {
    for (const id of ['a', 'b']) {
      for (const [level, ms] of [[0, 100], [3, 100], [8, 800]] as const) stats.firstEvent(id, 'm', level, ms);
    }
  }

  it('sends traffic away from a server whose own queue is deep, until the figures are too old', () => {
    const { stats } = boardWith({ a: { running: 16, waiting: 12 }, b: { running: 1, waiting: 0 } });
    sameCurves(stats);
    const select = expectedLatencySelector();
    const picks = Array.from({ length: 6 }, () => select([candidate('a'), candidate('b')], ctx(stats))!.id);
    expect(picks).toEqual(Array(6).fill('b'));
    // The same figures, read four check intervals ago: ignored, exact ties go round-robin.
    const stale = Array.from({ length: 4 }, () => select([candidate('a'), candidate('b')], ctx(stats, NOW + 40_000))!.id);
    expect(new Set(stale)).toEqual(new Set(['a', 'b']));
  });

  it('weighs a full KV cache against a server', () => {
    const { stats } = boardWith({ a: { running: 0, kv_cache_usage: 1 }, b: { running: 0, kv_cache_usage: 0.3 } });
    sameCurves(stats);
    stats.started('b', 0, true);
    // b runs one of llmlb's requests, a none, but a's cache is full: b is still cheaper.
    expect(expectedLatencySelector()([candidate('a'), candidate('b')], ctx(stats))!.id).toBe('b');
  });
});
