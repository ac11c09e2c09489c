// The oracle of bench/fleet.mjs: a selector with perfect knowledge of every simulated server (its
// slots, the exact remaining work of each running and queued request, its speed and its network
// delay). It is the limit a real selector is measured against, not a product: no real router can
// see inside its upstreams like this. It does not know the size of the request it is placing
// (a selector never sees the body), so it assumes the mean prompt and output lengths.

/** With the `ttft` objective, candidates expected to finish later than this × the best are skipped. */
const COMPLETION_GUARD = 2;

/**
 * A llmlb `Selector` that sends each request where, by the simulated servers' exact state, it is
 * expected to see its first token first (`objective: 'ttft'`, among the candidates expected to
 * finish within COMPLETION_GUARD × the earliest completion, so a long answer is not handed to a
 * slow idle box) or to finish first (`'e2e'`). `simsById` maps endpoint ids to `SimServer`s;
 * requests chosen but not yet arrived count as queued there.
 */
export function oracleSelector(simsById, { meanPrompt, meanOutput, objective = 'ttft' }) {
  const dispatched = new Map();
  return (candidates) => {
    const options = [];
    for (const c of candidates) {
      const sim = simsById.get(c.id);
      if (!sim) continue;
      const pending = Math.max(0, (dispatched.get(c.id) ?? 0) - sim.arrived);
      options.push({ c, ...expectedTimes(sim, pending, meanPrompt, meanOutput) });
    }
    const earliest = Math.min(...options.map((o) => o.e2e));
    let best;
    for (const o of options) {
      if (objective === 'ttft' && o.e2e > earliest * COMPLETION_GUARD) continue;
      const cost = objective === 'ttft' ? o.ttft : o.e2e;
      if (best === undefined || cost < best.cost) best = { c: o.c, cost };
    }
    const chosen = best?.c ?? candidates[0];
    dispatched.set(chosen.id, (dispatched.get(chosen.id) ?? 0) + 1);
    return chosen;
  };
}

/**
 * Expected time to first token and to the end (simulated ms from now) of a new mean-sized request
 * sent to `sim`, behind its running and queued requests and `pending` ones still on the way:
 * slots are freed in order of their remaining work; queued requests take them in FIFO order.
 * Infinite when the request would find a bounded queue full.
 */
export function expectedTimes(sim, pending, meanPrompt, meanOutput) {
  const { slots: size, maxQueue } = sim.spec;
  const waiting = sim.queue.length + pending;
  if (maxQueue !== null && maxQueue !== undefined && sim.slots.length + waiting >= size + maxQueue) {
    return { ttft: Infinity, e2e: Infinity };
  }
  const step = sim.stepMs(Math.min(size, sim.slots.length + waiting + 1));
  const now = performance.now();
  // When each slot becomes free, kept sorted ascending.
  const free = [];
  for (const seq of sim.slots) {
    const prefillLeft = seq.phase === 'prefill' ? Math.max(0, seq.prefillEnd - now) : 0;
    const tokensLeft = seq.phase === 'prefill' ? seq.left - 1 : seq.left;
    free.push(prefillLeft + Math.max(0, tokensLeft) * step);
  }
  while (free.length < size) free.push(0);
  free.sort((a, b) => a - b);
  const meanService = sim.prefillMs(meanPrompt) + Math.max(0, meanOutput - 1) * step;
  for (const seq of sim.queue) insertSorted(free, free.shift() + sim.prefillMs(seq.prompt) + Math.max(0, seq.output - 1) * step);
  for (let i = 0; i < pending; i++) insertSorted(free, free.shift() + meanService);
  const ttft = sim.rtt + free[0] + sim.prefillMs(meanPrompt);
  return { ttft, e2e: ttft + Math.max(0, meanOutput - 1) * step };
}

function insertSorted(list, value) {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, value);
}
