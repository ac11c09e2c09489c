/**
 * The default selector: send each request where it is expected to be answered soonest, judged
 * from real traffic and the load on each endpoint now — not from how fast `GET /v1/models`
 * answers.
 */
import type { SelectionCandidate, SelectionContext, Selector } from './types.js';
import { effectiveLoad, kvPressure } from './upstream-load.js';

/** How much of a stream's expected decode time counts toward its cost (the first token matters most). */
const DECODE_SHARE = 0.5;
/** Added to an endpoint without traffic for the model while one request there is still unanswered. */
const PROBATION_MS = 1e6;

/**
 * The load-aware selector. For each candidate it estimates the latency of this request sent
 * there now — the time to the first token for a stream, to the whole answer otherwise — from
 * that endpoint's learned latency curve for the model at its current number of requests in
 * flight (the curve is flat while the server has free slots and climbs once requests queue in
 * it) — but never less than how long its requests still waiting for a first byte have waited —
 * plus half its expected decode time (events × pace, learned from its streams), times one
 * plus its recent failures; the lowest wins.
 * An endpoint without traffic for the model yet is estimated from the others' figures (the
 * fastest) scaled by its in-flight requests over its `weight`, and gets one request at a time
 * until one is answered (so a slow box is not flooded before it is known), so new endpoints get their share
 * and learn; with no traffic anywhere, requests spread by in-flight over weight, the health
 * check's latency only breaking ties, and exact ties go round-robin. O(candidates), no
 * allocation.
 *
 * @example
 * createRouter({ selector: expectedLatencySelector() }); // the default
 */
export function expectedLatencySelector(): Selector {
  let turn = 0;
  const selector: Selector = (candidates, context) => {
    const prior = priorMs(candidates, context);
    const n = candidates.length;
    // Exact ties go round-robin: each call starts looking one candidate further on.
    const start = turn++ % n;
    let best: SelectionCandidate | undefined;
    let bestCost = Infinity;
    for (let i = 0; i < n; i++) {
      const c = candidates[(start + i) % n] as SelectionCandidate;
      const cost = costOf(c, context, prior);
      if (cost < bestCost) {
        best = c;
        bestCost = cost;
      }
    }
    return best ?? candidates[0];
  };
  return Object.assign(selector, { reason: 'least-expected-latency' });
}

/** The expected cost (ms) of sending this request to `c` now. */
function costOf(c: SelectionCandidate, { model, stream, stats, now, wallNow }: SelectionContext, prior: number): number {
  const inFlight = stats.inFlight(c.id);
  // llmlb's own requests there, plus what the server last said it runs or queues for others.
  const load = effectiveLoad(c, stats, wallNow);
  const learned = stats.expectedLatencyMs(c.id, model, stream, load);
  let cost: number;
  if (learned === null) {
    // Slow start: an endpoint not yet measured gets one request at a time until one is answered.
    cost = (prior * (1 + load)) / c.weight + (inFlight > 0 ? PROBATION_MS : 0);
  } else {
    // A stream waiting there without a first event for longer than the curve says: believe it.
    cost = stream ? Math.max(learned, stats.awaitingMs(c.id, now)) : learned;
  }
  if (stream) cost += DECODE_SHARE * (stats.decodeMs(c.id, model) ?? 0);
  // A full KV cache holds new requests back: up to twice the estimate.
  cost *= (1 + stats.recentFailures(c.id)) * (1 + kvPressure(c, stats, wallNow));
  // Equal estimates: the less loaded first, then the nearer (the health check's latency).
  return cost + load * 1e-6 + (c.latency_ms ?? 0) * 1e-9;
}

/**
 * The estimate for candidates without traffic, before their own load counts: the others'
 * fastest expected latency now (optimistic, so a new endpoint is tried and learns), or 1 when
 * none has any (then only in-flight, weight and ties decide).
 */
function priorMs(candidates: readonly SelectionCandidate[], { model, stream, stats, wallNow }: SelectionContext): number {
  let low = Infinity;
  for (const c of candidates) {
    const ms = stats.expectedLatencyMs(c.id, model, stream, effectiveLoad(c, stats, wallNow));
    if (ms !== null && ms < low) low = ms;
  }
  return low === Infinity ? 1 : low;
}
