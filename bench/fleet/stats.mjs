// Summaries and tables of bench/fleet.mjs: latency percentiles, throughput, errors and endpoint
// shares per selector and scenario, and their ratios to the oracle.
import { percentile, sortNumbers } from '../common.mjs';

/**
 * One run (selector × scenario) summarised: TTFT (streaming requests) and end-to-end
 * percentiles over the answered requests, output tokens per second from the start to the last
 * complete answer, errors by kind, each endpoint's share of the answered requests, and the
 * simulated servers' own counters (`upstreams`).
 */
export function summariseRun({ results, elapsedMs }, endpointNames, upstreams) {
  const ok = results.filter((r) => r.error === null);
  const ttfts = sortNumbers(ok.filter((r) => r.stream).map((r) => r.ttft));
  const e2es = sortNumbers(ok.map((r) => r.e2e));
  const tokens = ok.reduce((sum, r) => sum + r.tokens, 0);
  const errors = {};
  for (const r of results) if (r.error !== null) errors[r.error] = (errors[r.error] ?? 0) + 1;
  const share = {};
  for (const name of Object.values(endpointNames)) share[name] = 0;
  for (const r of ok) {
    const name = endpointNames[r.endpoint] ?? 'unknown';
    share[name] = (share[name] ?? 0) + 1 / ok.length;
  }
  return {
    requests: results.length,
    answered: ok.length,
    ttft: { p50: percentile(ttfts, 50), p99: percentile(ttfts, 99) },
    e2e: { p50: percentile(e2es, 50), p99: percentile(e2es, 99) },
    tokens,
    tokensPerSec: elapsedMs > 0 ? (tokens * 1000) / elapsedMs : 0,
    elapsedMs,
    errors,
    share,
    upstreams,
  };
}

/** Ratios of a run to the oracle's run of the same scenario: p99 TTFT and throughput. */
export function oracleRatios(run, oracle) {
  return { ttftP99: run.ttft.p99 / oracle.ttft.p99, throughput: run.tokensPerSec / oracle.tokensPerSec };
}

const num = (v, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '—');
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
export function printScenario(scenario, runs, serverNames) {
  const oracle = runs.oracle;
  const headers = ['selector', 'TTFT p50', 'TTFT p99', 'E2E p50', 'E2E p99', 'tok/s', 'answered', 'errors', ...serverNames, 'p99 TTFT ×oracle', 'tok/s ×oracle', 'other load'];
  const rows = Object.entries(runs).map(([name, run]) => {
    const ratio = oracle ? oracleRatios(run, oracle) : { ttftP99: NaN, throughput: NaN };
    // Served share, and the queue-full 503s the server answered (llmlb retried them elsewhere).
    const shareCell = (name) => {
      const rejected = run.upstreams.find((u) => u.name === name)?.rejected ?? 0;
      return `${pct(run.share[name] ?? 0)}${rejected > 0 ? ` (503×${rejected})` : ''}`;
    };
    return [
      name,
      num(run.ttft.p50),
      num(run.ttft.p99),
      num(run.e2e.p50),
      num(run.e2e.p99),
      num(run.tokensPerSec),
      `${run.answered}/${run.requests}`,
      errorText(run.errors),
      ...serverNames.map(shareCell),
      num(ratio.ttftP99, 2),
      num(ratio.throughput, 2),
      num(run.otherCores, 2),
    ];
  });
  printTable(headers, rows);
}

/** The summary over scenarios: p99 TTFT and throughput ratios to the oracle, per selector. */
export function printRatioSummary(scenarios, results) {
  const selectors = [...new Set(scenarios.flatMap((s) => Object.keys(results[s.key] ?? {})))].filter((s) => s !== 'oracle');
  const headers = ['selector', ...scenarios.flatMap((s) => [`${s.key} p99 TTFT ×oracle`, `${s.key} tok/s ×oracle`])];
  const rows = selectors.map((name) => [
    name,
    ...scenarios.flatMap((s) => {
      const run = results[s.key]?.[name];
      const oracle = results[s.key]?.oracle;
      if (!run || !oracle) return ['—', '—'];
      const r = oracleRatios(run, oracle);
      return [num(r.ttftP99, 2), num(r.throughput, 2)];
    }),
  ]);
  printTable(headers, rows);
}
