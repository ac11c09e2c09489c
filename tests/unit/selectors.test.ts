import { describe, expect, it } from 'vitest';
import { EndpointStats } from '../../src/proxy/stats.js';
import { latencySelector } from '../../src/select/latency.js';
import { leastBusySelector } from '../../src/select/least-busy.js';
import { roundRobinSelector } from '../../src/select/round-robin.js';
import type { SelectionCandidate, SelectionContext } from '../../src/select/types.js';

const c = (id: string, latency_ms: number | null): SelectionCandidate => ({
  id,
  name: id,
  base_url: `http://127.0.0.1/${id}`,
  status: 'online',
  latency_ms,
});
const stats = new EndpointStats();
const ctx: SelectionContext = { model: 'm', capability: 'chat', stats };
const pick = (selector: ReturnType<typeof latencySelector>, candidates: SelectionCandidate[], n: number) =>
  Array.from({ length: n }, () => selector(candidates, ctx)?.id);

describe('latencySelector', () => {
  it('picks the lowest latency', () => {
    expect(pick(latencySelector(), [c('a', 30), c('b', 5), c('c', 12)], 3)).toEqual(['b', 'b', 'b']);
  });

  it('breaks ties round-robin', () => {
    expect(pick(latencySelector(), [c('a', 5), c('b', 9), c('c', 5)], 4)).toEqual(['a', 'c', 'a', 'c']);
  });

  it('gives never-measured candidates a turn first', () => {
    expect(pick(latencySelector(), [c('a', 1), c('new1', null), c('new2', null)], 4)).toEqual(['new1', 'new2', 'new1', 'new2']);
  });

  it('handles one and zero candidates', () => {
    expect(latencySelector()([c('a', 3)], ctx)?.id).toBe('a');
    expect(latencySelector()([], ctx)).toBeUndefined();
  });
});

describe('roundRobinSelector', () => {
  it('cycles through every candidate', () => {
    const picks = pick(roundRobinSelector(), [c('a', 1), c('b', 99), c('c', 5)], 6);
    expect(new Set(picks.slice(0, 3))).toEqual(new Set(['a', 'b', 'c']));
    expect(picks.slice(3)).toEqual(picks.slice(0, 3));
  });
});

describe('leastBusySelector', () => {
  it('picks the candidate with the fewest requests in flight, then the lowest latency', () => {
    const s = new EndpointStats();
    const busyCtx: SelectionContext = { model: 'm', capability: 'chat', stats: s };
    const candidates = [c('a', 1), c('b', 50), c('c', 10)];
    s.started('a');
    s.started('a');
    s.started('c');
    expect(leastBusySelector()(candidates, busyCtx)?.id).toBe('b');
    s.started('b');
    s.started('b');
    expect(leastBusySelector()(candidates, busyCtx)?.id).toBe('c');
    s.finished('a');
    s.finished('a');
    expect(leastBusySelector()(candidates, busyCtx)?.id).toBe('a');
  });

  it('breaks exact ties round-robin', () => {
    expect(pick(leastBusySelector(), [c('a', 5), c('b', 5)], 4)).toEqual(['a', 'b', 'a', 'b']);
  });
});

describe('EndpointStats', () => {
  it('tracks in-flight, an EWMA of latency and failures that decay with successes', () => {
    const s = new EndpointStats();
    s.started('x');
    expect(s.inFlight('x')).toBe(1);
    s.succeeded('x', 100);
    s.succeeded('x', 200);
    expect(s.latencyMs('x')).toBeCloseTo(120);
    s.finished('x');
    s.finished('x');
    expect(s.inFlight('x')).toBe(0);
    s.failed('x');
    s.failed('x');
    expect(s.recentFailures('x')).toBe(2);
    s.succeeded('x', 100);
    expect(s.recentFailures('x')).toBe(1);
    s.forget('x');
    expect(s.latencyMs('x')).toBeNull();
    expect(s.recentFailures('x')).toBe(0);
  });
});
