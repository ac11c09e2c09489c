import { describe, expect, it } from 'vitest';
import {
  FAILURE_KINDS,
  OFFLINE_AFTER_FAILURES,
  failureKindForHttpStatus,
  nextStatus,
  type CheckOutcome,
  type FailureKind,
} from '../../src/health/transition.js';
import { ENDPOINT_STATUSES, type EndpointStatus } from '../../src/schema.js';

type OutcomeName = 'success' | FailureKind;
const OUTCOME_NAMES: readonly OutcomeName[] = ['success', ...FAILURE_KINDS];

function outcome(name: OutcomeName): CheckOutcome {
  return name === 'success' ? { ok: true } : { ok: false, kind: name };
}

/**
 * Expected status after one check, written out by hand: [status, outcome] → [after a check with
 * errorCount 0, after a check with errorCount 1]. Every non-auth failure kind behaves the same.
 */
const S = 'success';
const AUTH = 'unauthorized';
const OTHER = 'other failure';
const EXPECTED: Record<EndpointStatus, Record<typeof S | typeof AUTH | typeof OTHER, [EndpointStatus, EndpointStatus]>> = {
  pending: { [S]: ['online', 'online'], [AUTH]: ['error', 'error'], [OTHER]: ['offline', 'offline'] },
  online: { [S]: ['online', 'online'], [AUTH]: ['error', 'error'], [OTHER]: ['online', 'offline'] },
  offline: { [S]: ['online', 'online'], [AUTH]: ['error', 'error'], [OTHER]: ['offline', 'offline'] },
  error: { [S]: ['online', 'online'], [AUTH]: ['error', 'error'], [OTHER]: ['offline', 'offline'] },
};

describe('nextStatus — every (status × outcome × errorCount)', () => {
  const rows = ENDPOINT_STATUSES.flatMap((status) =>
    OUTCOME_NAMES.flatMap((name) => [0, 1].map((count) => [status, name, count] as const)),
  );

  it('covers 4 statuses × 8 outcomes × 2 counts', () => {
    expect(rows).toHaveLength(64);
  });

  it.each(rows)('%s + %s (errorCount %i)', (status, name, count) => {
    const column = name === 'success' ? S : name === 'unauthorized' ? AUTH : OTHER;
    const expectedStatus = EXPECTED[status][column][count === 0 ? 0 : 1];
    const expectedCount = name === 'success' ? 0 : count + 1;
    expect(nextStatus(status, count, outcome(name))).toEqual({ status: expectedStatus, errorCount: expectedCount });
  });
});

describe('nextStatus — sequences', () => {
  function run(start: EndpointStatus, outcomes: CheckOutcome[]): Array<{ status: EndpointStatus; errorCount: number }> {
    let state = { status: start, errorCount: 0 };
    return outcomes.map((o) => (state = nextStatus(state.status, state.errorCount, o)));
  }
  const ok: CheckOutcome = { ok: true };
  const fail: CheckOutcome = { ok: false, kind: 'timeout' };

  it('online → fail → online (count 1) → fail → offline', () => {
    expect(run('online', [fail, fail])).toEqual([
      { status: 'online', errorCount: 1 },
      { status: 'offline', errorCount: 2 },
    ]);
  });

  it('a success in between resets the count (failures must be consecutive)', () => {
    expect(run('online', [fail, ok, fail, ok, fail]).map((s) => s.status)).toEqual([
      'online',
      'online',
      'online',
      'online',
      'online',
    ]);
  });

  it('error → success → online', () => {
    expect(run('error', [ok])).toEqual([{ status: 'online', errorCount: 0 }]);
  });

  it('pending → fail → offline, and recovers on success', () => {
    expect(run('pending', [{ ok: false, kind: 'connection_refused' }, fail, ok])).toEqual([
      { status: 'offline', errorCount: 1 },
      { status: 'offline', errorCount: 2 },
      { status: 'online', errorCount: 0 },
    ]);
  });

  it('a bad credential puts an online endpoint in error at once; unreachable then means offline', () => {
    expect(run('online', [{ ok: false, kind: 'unauthorized' }, { ok: false, kind: 'dns' }, { ok: false, kind: 'unauthorized' }])).toEqual([
      { status: 'error', errorCount: 1 },
      { status: 'offline', errorCount: 2 },
      { status: 'error', errorCount: 3 },
    ]);
  });

  it(`goes offline after exactly ${OFFLINE_AFTER_FAILURES} consecutive failures`, () => {
    const states = run('online', Array.from({ length: OFFLINE_AFTER_FAILURES }, () => fail));
    expect(states.slice(0, -1).every((s) => s.status === 'online')).toBe(true);
    expect(states.at(-1)).toEqual({ status: 'offline', errorCount: OFFLINE_AFTER_FAILURES });
  });
});

describe('nextStatus — robustness', () => {
  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])(
    'treats errorCount %s as 0',
    (count) => {
      expect(nextStatus('online', count, { ok: false, kind: 'timeout' })).toEqual({ status: 'online', errorCount: 1 });
    },
  );

  it('truncates a fractional errorCount', () => {
    expect(nextStatus('online', 1.7, { ok: false, kind: 'network' })).toEqual({ status: 'offline', errorCount: 2 });
  });

  it('keeps counting on a long outage', () => {
    expect(nextStatus('offline', 41, { ok: false, kind: 'timeout' })).toEqual({ status: 'offline', errorCount: 42 });
  });
});

describe('failureKindForHttpStatus', () => {
  it.each([
    [401, 'unauthorized'],
    [403, 'unauthorized'],
    [400, 'http_status'],
    [404, 'http_status'],
    [429, 'http_status'],
    [500, 'http_status'],
    [502, 'http_status'],
    [503, 'http_status'],
  ] as const)('%i → %s', (status, kind) => {
    expect(failureKindForHttpStatus(status)).toBe(kind);
  });

  it('FAILURE_KINDS lists every kind once', () => {
    expect(new Set(FAILURE_KINDS).size).toBe(FAILURE_KINDS.length);
    expect(FAILURE_KINDS).toContain(failureKindForHttpStatus(401));
    expect(FAILURE_KINDS).toContain(failureKindForHttpStatus(500));
  });
});
