/** Round-robin selection: every candidate in turn. */
import type { SelectionCandidate, Selector } from './types.js';

/**
 * Cycles through the candidates, ignoring latency and load.
 *
 * @example
 * createRouter({ selector: roundRobinSelector() });
 */
export function roundRobinSelector(): Selector {
  let turn = 0;
  return Object.assign(
    (candidates: readonly SelectionCandidate[]) => {
      if (candidates.length === 0) return undefined;
      turn = (turn + 1) % 1_000_000_007;
      return candidates[turn % candidates.length];
    },
    { reason: 'round-robin' },
  );
}
