// Summaries and tables of bench/fleet.mjs: latency percentiles, throughput, errors and endpoint
// shares per selector and scenario, and their ratios to the oracle.
import { percentile, sortNumbers } from '../common.mjs';

/**
 * A request's latency as a sample `{ v, bound }`: the measured value; for a request aborted at
 * the deadline before it, the time it had waited (`bound`: a lower bound); Infinity when it failed.
 */
function sample(r, key) {
  if (r[key] !== null && r[key] !== undefined) return { v: r[key], bound: false };
  if (r.error === 'timeout') return { v: r.waited, bound: true };
  return { v: Infinity, bound: false };
}

/** p50 and p99 of samples; a percentile is a lower bound when a lower-bound sample sits at or below it. */
function tails(samples) {
  const sorted = samples.sort((a, b) => a.v - b.v);
  const at = (p) => {
    const hit = percentile(sorted, p);
    if (hit === undefined || Number.isNaN(hit)) return { v: NaN, bound: false };
    return { v: hit.v, bound: sorted.some((x) => x.bound && x.v <= hit.v) };
  };
  return { p50: at(50), p99: at(99) };
}

/**
 * One run (selector × scenario) summarised: TTFT (streaming requests) and end-to-end
 * percentiles over every request (unanswered ones as lower bounds or Infinity, see `sample`),
 * output tokens per second from the start to the last complete answer, errors by kind, and each
 * endpoint's share of the requests it received (`share`, attempts counted by the simulated
 * servers, so failovers count twice) with the servers' own counters (`upstreams`).
 */
export function summariseRun({ results, bypass = [], elapsedMs }, upstreams) {
  const ok = results.filter((r) => r.error === null);
  const tokens = ok.reduce((sum, r) => sum + r.tokens, 0);
  const errors = {};
  for (const r of results) if (r.error !== null) errors[r.error] = (errors[r.error] ?? 0) + 1;
  const attempts = upstreams.reduce((sum, u) => sum + u.arrived, 0);
  const share = Object.fromEntries(upstreams.map((u) => [u.name, attempts > 0 ? u.arrived / attempts : 0]));
  return {
    requests: results.length,
    answered: ok.length,
    ttft: tails(results.filter((r) => r.stream).map((r) => sample(r, 'ttft'))),
    e2e: tails(results.map((r) => sample(r, 'e2e'))),
    tokens,
    tokensPerSec: elapsedMs > 0 ? (tokens * 1000) / elapsedMs : 0,
    elapsedMs,
    errors,
    share,
    upstreams,
    bypass: {
      requests: bypass.length,
      answered: bypass.filter((r) => r.error === null).length,
      ttft: tails(bypass.filter((r) => r.stream).map((r) => sample(r, 'ttft'))),
    },
  };
}

/** Ratios of a run to the oracle's run of the same scenario: p99 TTFT (`bound`: at least) and throughput. */
export function oracleRatios(run, oracle) {
  return {
    ttftP99: { v: run.ttft.p99.v / oracle.ttft.p99.v, bound: run.ttft.p99.bound },
    throughput: run.tokensPerSec / oracle.tokensPerSec,
  };
}

const num = (v, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '—');
/** A latency or ratio sample: `≥` marks a lower bound, `fail` a failed request. */
const lat = ({ v, bound }, digits = 0) => (v === Infinity ? 'fail' : `${bound ? '≥' : ''}${num(v, digits)}`);
const pct = (v) => `${Math.round(v * 100)}%`;
const errorText = (errors) =>
  Object.entries(errors)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${kind}×${n}`)
    .join(' ') || '0';

/** Prints rows of cells under headers; the first `left` columns are left-aligned. */
export function printTable(headers, rows, left = 1) {
  const widths = headers.map((h, i) => Math.max(String(h).length, ...rows.map((r) => String(r[i]).length)));
  const fmt = (cells) => cells.map((c, i) => (i < left ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  console.log(fmt(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(fmt(row));
}

/** The table of one scenario: a row per selector, oracle first. */
export function printScenario(runs, serverNames) {
  const oracle = runs.oracle;
  const headers = ['selector', 'TTFT p50', 'TTFT p99', 'E2E p50', 'E2E p99', 'tok/s', 'answered', 'errors', ...serverNames, 'p99 TTFT ×oracle', 'tok/s ×oracle', 'other load'];
  const rows = Object.entries(runs).map(([name, run]) => {
    const ratio = oracle ? oracleRatios(run, oracle) : { ttftP99: { v: NaN }, throughput: NaN };
    // Share of the requests the server received, and the queue-full 503s it answered (retried elsewhere).
    const shareCell = (server) => {
      const rejected = run.upstreams.find((u) => u.name === server)?.rejected ?? 0;
      return `${pct(run.share[server] ?? 0)}${rejected > 0 ? ` (503×${rejected})` : ''}`;
    };
    return [
      name,
      lat(run.ttft.p50),
      lat(run.ttft.p99),
      lat(run.e2e.p50),
      lat(run.e2e.p99),
      num(run.tokensPerSec),
      `${run.answered}/${run.requests}`,
      errorText(run.errors),
      ...serverNames.map(shareCell),
      lat(ratio.ttftP99, 2),
      num(ratio.throughput, 2),
      num(run.otherCores, 2),
    ];
  });
  printTable(headers, rows);
}

/** The summary over scenarios: p99 TTFT and throughput ratios to the oracle, and the share answered, per selector. */
export function printRatioSummary(scenarios, results) {
  const selectors = [...new Set(scenarios.flatMap((s) => Object.keys(results[s.key] ?? {})))].filter((s) => s !== 'oracle');
  const headers = ['selector', ...scenarios.flatMap((s) => [`${s.key} p99 TTFT ×oracle`, 'tok/s ×oracle', 'answered'])];
  const rows = selectors.map((name) => [
    name,
    ...scenarios.flatMap((s) => {
      const run = results[s.key]?.[name];
      const oracle = results[s.key]?.oracle;
      if (!run || !oracle) return ['—', '—', '—'];
      const r = oracleRatios(run, oracle);
      return [lat(r.ttftP99, 2), num(r.throughput, 2), pct(run.answered / run.requests)];
    }),
  ]);
  printTable(headers, rows);
}

/** What the clients that bypass llmlb saw, per run, and how many of llmlb's requests went to their server. */
export function printBypass(runs, server) {
  console.log(`Clients sending straight to ${server}, in the same runs:`);
  const headers = ['run', 'their TTFT p50', 'their TTFT p99', 'answered', `llmlb's requests to ${server}`];
  const rows = Object.entries(runs).map(([name, run]) => [
    name,
    lat(run.bypass.ttft.p50),
    lat(run.bypass.ttft.p99),
    `${run.bypass.answered}/${run.bypass.requests}`,
    pct(run.share[server] ?? 0),
  ]);
  printTable(headers, rows);
}
