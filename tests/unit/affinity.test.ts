/** Session affinity on its own: pins with a TTL and an LRU bound, and rendezvous hashing. */
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { SessionAffinity } from '../../src/proxy/affinity.js';

function clockAt(start = 0): Clock & { set(ms: number): void } {
  let mono = start;
  return { now: () => 0, monotonic: () => mono, setTimeout: () => 0, clearTimeout: () => undefined, set: (ms) => (mono = ms) };
}

const endpoints = (n: number, weight = () => 1) => Array.from({ length: n }, (_, i) => ({ id: `endpoint-${i}`, weight: weight() }));

describe('SessionAffinity', () => {
  it('reads the key from the header, else the body field, and ignores unusable keys', () => {
    const a = new SessionAffinity({ header: 'X-Conversation', bodyField: 'user' }, clockAt());
    expect(a.keyOf({ 'x-conversation': 'c1' }, { user: 'u1' })).toBe('c1');
    expect(a.keyOf({}, { user: 'u1' })).toBe('u1');
    expect(a.keyOf({}, { user: 42 })).toBeNull();
    expect(a.keyOf({ 'x-conversation': 'x'.repeat(257) }, {})).toBeNull();
  });

  it('expires pins after ttlMs without use and keeps at most maxSessions, least recently used first out', () => {
    const clock = clockAt();
    const a = new SessionAffinity({ ttlMs: 1000, maxSessions: 2 }, clock);
    a.pin('s1', 'e1');
    a.pin('s2', 'e2');
    clock.set(500);
    a.pin('s1', 'e1'); // used again: s2 is now the least recent
    a.pin('s3', 'e3');
    expect(a.endpointOf('s2')).toBeUndefined();
    expect(a.endpointOf('s1')).toBe('e1');
    clock.set(1500);
    expect(a.endpointOf('s1')).toBeUndefined();
    a.forgetEndpoint('e3');
    expect(a.endpointOf('s3')).toBeUndefined();
  });

  it('puts a session on the same endpoint on every instance, and spreads sessions by weight', () => {
    const one = new SessionAffinity({}, clockAt());
    const other = new SessionAffinity({}, clockAt());
    const fleet = endpoints(4);
    for (let i = 0; i < 50; i++) expect(one.rendezvous(`s${i}`, fleet)?.id).toBe(other.rendezvous(`s${i}`, [...fleet].reverse())?.id);
    const weighted = [{ id: 'small', weight: 1 }, { id: 'big', weight: 3 }];
    const counts = { small: 0, big: 0 };
    for (let i = 0; i < 4000; i++) counts[one.rendezvous(`session-${i}`, weighted)!.id as 'small' | 'big']++;
    expect(counts.big / 4000).toBeGreaterThan(0.7);
    expect(counts.big / 4000).toBeLessThan(0.8);
  });

  it('moves only the sessions of an endpoint that leaves', () => {
    const a = new SessionAffinity({}, clockAt());
    const fleet = endpoints(5);
    const before = new Map(Array.from({ length: 500 }, (_, i) => [`s${i}`, a.rendezvous(`s${i}`, fleet)!.id]));
    const remaining = fleet.filter((e) => e.id !== 'endpoint-2');
    for (const [key, id] of before) {
      const after = a.rendezvous(key, remaining)!.id;
      if (id !== 'endpoint-2') expect(after).toBe(id);
    }
  });
});
