/** Conformance cases: leases. */
import { expect, it } from 'vitest';
import type { Suite } from './suite.js';

const NOW = Date.parse('2025-01-01T00:00:00.000Z');
const TTL = 10_000;

/** Leases: taking, renewing, refusing, expiring, releasing, and racing. */
export function leaseCases(suite: Suite): void {
  it('grants a free lease and refuses it to another holder until it expires', async () => {
    expect(await suite.storage.tryLease('checker', 'a', TTL, NOW)).toBe(true);
    expect(await suite.storage.tryLease('checker', 'b', TTL, NOW)).toBe(false);
    expect(await suite.storage.tryLease('checker', 'b', TTL, NOW + TTL - 1)).toBe(false);
    // Expired once `now` reaches the expiry.
    expect(await suite.storage.tryLease('checker', 'b', TTL, NOW + TTL)).toBe(true);
    expect(await suite.storage.tryLease('checker', 'a', TTL, NOW + TTL)).toBe(false);
  });

  it('lets the holder renew, extending the expiry from the new now', async () => {
    expect(await suite.storage.tryLease('checker', 'a', TTL, NOW)).toBe(true);
    expect(await suite.storage.tryLease('checker', 'a', TTL, NOW + TTL - 1)).toBe(true);
    expect(await suite.storage.tryLease('checker', 'b', TTL, NOW + TTL)).toBe(false);
    expect(await suite.storage.tryLease('checker', 'b', TTL, NOW + 2 * TTL - 1)).toBe(true);
  });

  it('lets the holder renew an expired lease nobody else took', async () => {
    expect(await suite.storage.tryLease('checker', 'a', TTL, NOW)).toBe(true);
    expect(await suite.storage.tryLease('checker', 'a', TTL, NOW + 5 * TTL)).toBe(true);
    expect(await suite.storage.tryLease('checker', 'b', TTL, NOW + 5 * TTL + 1)).toBe(false);
  });

  it('keeps leases of different names apart', async () => {
    expect(await suite.storage.tryLease('checker', 'a', TTL, NOW)).toBe(true);
    expect(await suite.storage.tryLease('retention', 'b', TTL, NOW)).toBe(true);
    expect(await suite.storage.tryLease('retention', 'a', TTL, NOW)).toBe(false);
  });

  it('frees a released lease; a release by another holder changes nothing', async () => {
    expect(await suite.storage.tryLease('checker', 'a', TTL, NOW)).toBe(true);
    await suite.storage.releaseLease('checker', 'b');
    await suite.storage.releaseLease('missing', 'a');
    expect(await suite.storage.tryLease('checker', 'b', TTL, NOW)).toBe(false);
    await suite.storage.releaseLease('checker', 'a');
    expect(await suite.storage.tryLease('checker', 'b', TTL, NOW)).toBe(true);
    expect(await suite.storage.tryLease('checker', 'a', TTL, NOW)).toBe(false);
  });

  it('grants a contested lease to exactly one of two concurrent holders', async () => {
    const results = await Promise.all([
      suite.storage.tryLease('checker', 'a', TTL, NOW),
      suite.storage.tryLease('checker', 'b', TTL, NOW),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results[0] ? 'a' : 'b';
    const loser = results[0] ? 'b' : 'a';
    expect(await suite.storage.tryLease('checker', winner, TTL, NOW + 1)).toBe(true);
    expect(await suite.storage.tryLease('checker', loser, TTL, NOW + 1)).toBe(false);
  });

  it('lists the unexpired leases of a prefix, case-sensitively, by name', async () => {
    await suite.storage.tryLease('member:b', 'b', TTL, NOW);
    await suite.storage.tryLease('member:a', 'a', TTL, NOW);
    await suite.storage.tryLease('member:old', 'old', 1, NOW - 10);
    await suite.storage.tryLease('MEMBER:x', 'x', TTL, NOW);
    await suite.storage.tryLease('check:1', 'a', TTL, NOW);
    expect(await suite.storage.listLeases('member:', NOW)).toStrictEqual([
      { name: 'member:a', holder: 'a', expires_at: NOW + TTL },
      { name: 'member:b', holder: 'b', expires_at: NOW + TTL },
    ]);
    expect(await suite.storage.listLeases('member:', NOW + TTL)).toStrictEqual([]);
  });

  it("renews only the holder's unexpired leases of a prefix, at once", async () => {
    await suite.storage.tryLease('check:1', 'a', TTL, NOW);
    await suite.storage.tryLease('check:2', 'a', TTL, NOW - TTL);
    await suite.storage.tryLease('check:3', 'b', TTL, NOW);
    await suite.storage.tryLease('member:a', 'a', TTL, NOW);
    expect(await suite.storage.renewLeases('a', 'check:', TTL, NOW + 1)).toStrictEqual(['check:1']);
    const leases = await suite.storage.listLeases('', NOW + TTL);
    expect(leases.map((l) => [l.name, l.expires_at])).toStrictEqual([['check:1', NOW + 1 + TTL]]);
  });
}
