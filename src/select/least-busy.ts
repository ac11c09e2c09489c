/** Least-busy selection: fewest requests in flight. */
import { nth } from './latency.js';
import type { SelectionCandidate, SelectionContext, Selector } from './types.js';

/**
 * Picks the candidate with the fewest requests in flight; ties go to the lower health-check
 * latency, then round-robin. Good when endpoints have similar speed but requests vary in length.
 *
 * @example
 * createRouter({ selector: leastBusySelector() });
 */
export function leastBusySelector(): Selector {
  let turn = 0;
  const rank = (c: SelectionCandidate, busy: number) => busy * 1e9 + (c.latency_ms ?? 0);
  return Object.assign(
    (candidates: readonly SelectionCandidate[], { stats }: SelectionContext) => {
      let bestRank = Infinity;
      let ties = 0;
      for (const c of candidates) {
        const r = rank(c, stats.inFlight(c.id));
        if (r < bestRank) {
          bestRank = r;
          ties = 1;
        } else if (r === bestRank) {
          ties++;
        }
      }
      if (ties <= 1) return nth(candidates, 0, (c) => rank(c, stats.inFlight(c.id)) === bestRank);
      return nth(candidates, turn++ % ties, (c) => rank(c, stats.inFlight(c.id)) === bestRank);
    },
    { reason: 'least-busy' },
  );
}
