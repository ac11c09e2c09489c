/** The default selector: lowest health-check latency, ties broken round-robin. */
import type { SelectionCandidate, Selector } from './types.js';

/**
 * Picks the candidate with the lowest `latency_ms`. Candidates never measured get a turn first
 * (round-robin among them), so a new endpoint is not ranked last forever. Ties are broken
 * round-robin. O(candidates), no allocation.
 *
 * @example
 * createRouter({ selector: latencySelector() });
 */
export function latencySelector(): Selector {
  let turn = 0;
  return Object.assign(
    (candidates: readonly SelectionCandidate[]) => {
      let best: SelectionCandidate | undefined;
      let ties = 0;
      let unmeasured = 0;
      for (const c of candidates) {
        if (c.latency_ms === null) {
          unmeasured++;
          continue;
        }
        if (best === undefined || c.latency_ms < (best.latency_ms as number)) {
          best = c;
          ties = 1;
        } else if (c.latency_ms === best.latency_ms) {
          ties++;
        }
      }
      if (unmeasured > 0) return nth(candidates, turn++ % unmeasured, (c) => c.latency_ms === null);
      if (best === undefined || ties === 1) return best;
      const target = best.latency_ms;
      return nth(candidates, turn++ % ties, (c) => c.latency_ms === target);
    },
    { reason: 'lowest-check-latency' },
  );
}

/** The `index`-th candidate (0-based) that satisfies `keep`. */
export function nth(
  candidates: readonly SelectionCandidate[],
  index: number,
  keep: (c: SelectionCandidate) => boolean,
): SelectionCandidate | undefined {
  let seen = 0;
  for (const c of candidates) {
    if (!keep(c)) continue;
    if (seen === index) return c;
    seen++;
  }
  return undefined;
}
