import { describe, expect, it } from 'vitest';
import { EndpointStats } from '../../src/proxy/stats.js';
import { expectedLatencySelector } from '../../src/select/expected-latency.js';
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
  max_concurrency: null,
  priority: 0,
  weight: 1,
  health_check_interval_secs: 30,
});
const stats = new EndpointStats();
const ctx: SelectionContext = { model: 'm', capability: 'chat', stream: false, stats, now: 0, wallNow: 0 };
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
    const busyCtx: SelectionContext = { model: 'm', capability: 'chat', stream: false, stats: s, now: 0, wallNow: 0 };
    const candidates = [c('a', 1), c('b', 50), c('c', 10)];
    s.started('a', 0, true);
    s.started('a', 0, true);
    s.started('c', 0, true);
    expect(leastBusySelector()(candidates, busyCtx)?.id).toBe('b');
    s.started('b', 0, true);
    s.started('b', 0, true);
    expect(leastBusySelector()(candidates, busyCtx)?.id).toBe('c');
    s.finished('a');
    s.finished('a');
    expect(leastBusySelector()(candidates, busyCtx)?.id).toBe('a');
  });

  it('breaks exact ties round-robin', () => {
    expect(pick(leastBusySelector(), [c('a', 5), c('b', 5)], 4)).toEqual(['a', 'b', 'a', 'b']);
  });
});

describe('expectedLatencySelector', () => {
  /** A stats store where endpoint `id` answered `model` streams in `ms` at each load level given. */
  function learned(curves: Record<string, Record<number, number>>, stream = true): EndpointStats {
    const s = new EndpointStats();
    for (const [id, levels] of Object.entries(curves)) {
      for (const [level, ms] of Object.entries(levels)) {
        if (stream) s.firstEvent(id, 'm', Number(level), ms);
        else s.observe(id, { model: 'm', streamed: false, inFlightAtStart: Number(level), latencyMs: ms, msPerChunk: null, chunks: 0 });
      }
    }
    return s;
  }
  const streamCtx = (s: EndpointStats): SelectionContext => ({ model: 'm', capability: 'chat', stream: true, stats: s, now: 0, wallNow: 0 });

  it('with no traffic anywhere spreads by in-flight over weight, not by the health check latency', () => {
    const s = new EndpointStats();
    const near = { ...c('near', 1), weight: 1 };
    const far = { ...c('far', 60), weight: 3 };
    const chosen: string[] = [];
    for (let i = 0; i < 8; i++) {
      const id = expectedLatencySelector()([near, far], streamCtx(s))!.id;
      s.started(id, 0, true);
      chosen.push(id);
    }
    // The far endpoint, three times the weight, takes about three quarters; the near one is not herded onto.
    expect(chosen.filter((id) => id === 'far').length).toBe(6);
  });

  it('prefers the endpoint whose learned latency at its current load is lowest, and moves on as its load grows', () => {
    // gpu: flat up to 8 in flight (free slots); cpu: fine alone, queues from 2 in flight.
    const s = learned({ gpu: { 0: 100, 4: 110, 8: 400 }, cpu: { 0: 300, 1: 320, 2: 5000 } });
    const select = expectedLatencySelector();
    const chosen: string[] = [];
    for (let i = 0; i < 12; i++) {
      const id = select([c('gpu', 50), c('cpu', 1)], streamCtx(s))!.id;
      s.started(id, 0, true);
      chosen.push(id);
    }
    // The gpu while its expected latency (interpolated between 4 and 8 in flight) stays under the cpu's 300 ms…
    expect(chosen.slice(0, 7)).toEqual(Array(7).fill('gpu'));
    // …then the cpu's two fast levels, and never a third request there (it would queue: 5 s).
    expect(chosen.filter((id) => id === 'cpu')).toEqual(['cpu', 'cpu']);
  });

  it('counts recent failures against an endpoint: a fast 503 never makes it look fast', () => {
    const s = learned({ a: { 0: 10 }, b: { 0: 50 } });
    for (let i = 0; i < 10; i++) s.failed('a');
    expect(expectedLatencySelector()([c('a', 1), c('b', 1)], streamCtx(s))?.id).toBe('b');
  });

  it('gives an endpoint without traffic its share from the others\' figures', () => {
    const s = learned({ known: { 0: 100, 1: 100, 2: 100, 3: 100 } });
    for (let i = 0; i < 3; i++) s.started('known', 0, true);
    expect(expectedLatencySelector()([c('known', 1), c('new', 1)], streamCtx(s))?.id).toBe('new');
  });

  it('never expects less than requests still waiting there for a first byte have waited', () => {
    // a's curve says 10 ms, but it has two requests sent 900 ms ago with no first byte yet: stuck.
    const s = learned({ a: { 0: 10, 2: 10 }, b: { 0: 200 } });
    s.started('a', 100, true);
    s.started('a', 100, true);
    const at = (now: number) => expectedLatencySelector()([c('a', 1), c('b', 1)], { ...streamCtx(s), now })?.id;
    expect(at(150)).toBe('a');
    expect(at(1000)).toBe('b');
    s.answered('a', 100);
    s.answered('a', 100);
    expect(at(1000)).toBe('a');
  });

  it('names its reason', () => {
    expect(expectedLatencySelector().reason).toBe('least-expected-latency');
    expect(leastBusySelector().reason).toBe('least-busy');
  });
});

describe('EndpointStats', () => {
  it('tracks in-flight, an EWMA of latency and failures that decay with successes', () => {
    const s = new EndpointStats();
    s.started('x', 0, true);
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
