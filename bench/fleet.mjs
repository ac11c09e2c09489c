// Routing-quality benchmark: how well each selector spreads LLM load over a heterogeneous fleet
// of simulated inference servers, against an oracle that sees inside every server.
//
//   node bench/fleet.mjs [--scenarios load50,load80,burst,bypass] [--selectors latency,oracle,…]
//                        [--seed N] [--duration S | --requests N] [--timeout S] [--fleet FILE]
//                        [--time-scale X] [--oracle e2e|ttft] [--signals on|off] [--json FILE]
//
// For every scenario and selector a fresh child process (bench/fleet/child.mjs) runs the
// simulated fleet and an llmlb router (createRouter + toNodeHandler) in front of it; this process
// sends the scenario's seeded open-loop Poisson load through llmlb and measures every answer.
// Selectors: every `*Selector` export of dist/index.js, plus `oracle` (bench/fleet/oracle.mjs).
//
// --scenarios     which scenarios (default all: load50, load80, burst, bypass; bypass runs
//                 expectedLatency with and without the servers' load figures, and the oracle)
// --selectors     which selectors, by name without "Selector" (default all, and oracle)
// --seed N        seed of the arrivals and request sizes (default 1)
// --duration S    seconds of arrivals per scenario (default 6; the burst takes a third of it)
// --requests N    requests per scenario instead (overrides --duration)
// --timeout S     a client abandons its request S s after sending it unless answered in full
//                 (default 8: 40 s of real time at the default time scale)
// --fleet FILE    fleet JSON `{ timeScale?, model?, servers: [...], load? }` (see bench/README.md)
// --time-scale X  simulated time per real-world time unit (default 0.2: five times faster)
// --oracle OBJ    what the oracle minimises: ttft (expected time to first token among the
//                 endpoints expected to finish within 2× the earliest; default) or e2e (completion)
// --signals       on (default): the simulated servers publish their load in their engine's
//                 format (vLLM /metrics, llama.cpp /slots, Ollama /api/ps) and llmlb reads it at
//                 each check; off: they answer only the OpenAI routes, as before
// --json FILE     also write the raw results
//
// All traffic goes to 127.0.0.1; every loop is bounded in count and time; children exit with this
// process.
import { existsSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { clockTicks, cpuMicros, guardRun, parseArgs, systemBusyMicros } from './common.mjs';
import { estimateCapacity, loadFleet, meanLengths, planScenarios, SCENARIOS } from './fleet/config.mjs';
import { makeRequests, runScenario } from './fleet/load.mjs';
import { printBypass, printRatioSummary, printScenario, printTable, summariseRun } from './fleet/stats.mjs';
import { ask, spawnChild, stopChild } from './reliability/lib.mjs';

const args = parseArgs(process.argv.slice(2));
const GLOBAL_LIMIT_MS = 10 * 60_000;
const CLIENT_KEY = 'fleet-bench-client-key-0123456789';
const TICKS = clockTicks();

for (const file of ['../dist/index.js', '../dist/node.js']) {
  if (!existsSync(new URL(file, import.meta.url))) {
    console.error(`missing ${file.slice(3)}: run \`npm run build\` first (or \`npm run bench:fleet\`)`);
    process.exit(1);
  }
}

const children = new Set();
const guard = guardRun(children, GLOBAL_LIMIT_MS, 'fleet benchmark');

/** The selectors to compare: every `*Selector` function the built package exports, and the oracle. */
async function selectorNames() {
  const llmlb = await import('../dist/index.js');
  const found = Object.keys(llmlb)
    .filter((k) => k.endsWith('Selector') && typeof llmlb[k] === 'function')
    .map((k) => k.slice(0, -'Selector'.length));
  const all = ['oracle', ...found];
  if (typeof args.selectors !== 'string') return all;
  const wanted = args.selectors.split(',').map((s) => s.trim().replace(/Selector$/, ''));
  const unknown = wanted.filter((s) => !all.includes(s));
  if (unknown.length > 0) throw new Error(`unknown selector(s) ${unknown.join(', ')} (known: ${all.join(', ')})`);
  // The oracle is the reference of every ratio: it always runs.
  return ['oracle', ...wanted.filter((s) => s !== 'oracle')];
}

/** Options and derived figures of the whole run. */
function setup() {
  const fleet = loadFleet(typeof args.fleet === 'string' ? args.fleet : undefined);
  if (args['time-scale'] !== undefined) fleet.timeScale = Number(args['time-scale']);
  if (!(fleet.timeScale > 0 && fleet.timeScale <= 10)) throw new Error('--time-scale must be in (0, 10]');
  const means = meanLengths(fleet.load);
  const capacity = estimateCapacity(fleet, means);
  const keys = typeof args.scenarios === 'string' ? args.scenarios.split(',').map((s) => s.trim()) : SCENARIOS.map((s) => s.key);
  const scenarios = planScenarios(keys, capacity, {
    requests: args.requests !== undefined ? Number(args.requests) : undefined,
    duration: args.duration !== undefined ? Number(args.duration) : undefined,
  });
  const seed = Number(args.seed ?? 1);
  const timeoutMs = Math.max(1, Number(args.timeout ?? 8)) * 1000;
  const oracle = args.oracle === 'e2e' ? 'e2e' : 'ttft';
  const signals = args.signals !== 'off';
  return { fleet, means, capacity, scenarios, seed, timeoutMs, oracle, signals };
}

function printFleet({ fleet, means, capacity }) {
  const speedup = 1 / fleet.timeScale;
  console.log(`Fleet (durations in real-world ms; the simulation runs ${speedup.toFixed(speedup % 1 ? 1 : 0)}× faster, timeScale ${fleet.timeScale}); model ${fleet.model}`);
  const rows = fleet.servers.map((s, i) => {
    const c = capacity.servers[i];
    const q = s.maxQueue === null || s.maxQueue === undefined ? 'unbounded' : String(s.maxQueue);
    return [s.name, s.engine, s.slots, q, `${s.decodeMs} → ${c.step.toFixed(1)}`, s.prefillMsPerToken, s.rttMs, c.serviceMs.toFixed(0), c.rps.toFixed(1)];
  });
  printTable(['server', 'engine', 'slots', 'queue', 'decode ms/token (1 seq → full)', 'prefill ms/token', 'probe RTT ms', 'slot ms/request', 'req/s (sim)'], rows, 2);
  console.log(
    `\nRequest sizes: prompt log-normal median ${fleet.load.prompt.median} σ ${fleet.load.prompt.sigma} (mean ${means.prompt.toFixed(0)} tokens), ` +
      `output median ${fleet.load.output.median} σ ${fleet.load.output.sigma} (mean ${means.output.toFixed(1)} tokens), ${Math.round(fleet.load.streamShare * 100)} % streamed.`,
  );
  console.log(
    `Capacity = Σ slots / (E[prompt]·prefill + (E[output] − 1)·step(full batch)) × ${speedup.toFixed(speedup % 1 ? 1 : 0)} = ` +
      `${capacity.rps.toFixed(1)} req/s, ${capacity.tokensPerSec.toFixed(0)} output tokens/s (simulated time).`,
  );
}

/**
 * The runs of a scenario: each selector with the servers' load figures as `--signals` says; a
 * bypass scenario runs only its own selectors, each with and without the figures.
 */
function runsOf(scenario, selectors, signals) {
  if (!scenario.bypass) return selectors.map((selector) => ({ name: selector, selector, signals }));
  const own = selectors.filter((s) => s === 'oracle' || scenario.selectors.includes(s));
  return own.flatMap((selector) =>
    selector === 'oracle'
      ? [{ name: selector, selector, signals: true }]
      : [
          { name: selector, selector, signals: true },
          { name: `${selector} (no signals)`, selector, signals: false },
        ],
  );
}

/** One run (selector × signals) on one scenario: a fresh fleet + router child, the load, its counters. */
async function runOne(ctx, scenario, run, requests, bypassRequests) {
  const config = {
    fleet: ctx.fleet,
    selector: run.selector,
    signals: run.signals,
    meanPrompt: ctx.means.prompt,
    meanOutput: ctx.means.output,
    oracle: ctx.oracle,
    clientKey: CLIENT_KEY,
    maxMs: GLOBAL_LIMIT_MS,
  };
  // spawnChild resolves scripts relative to bench/reliability/.
  const ready = await spawnChild('../fleet/child.mjs', config, { timeoutMs: 20_000 });
  children.add(ready.child);
  const ours = () => cpuMicros(process.pid, TICKS) + cpuMicros(ready.child.pid, TICKS);
  const before = { busy: systemBusyMicros(TICKS), ours: ours(), at: performance.now() };
  try {
    const run = await runScenario({
      url: `http://127.0.0.1:${ready.port}`,
      model: ctx.fleet.model,
      clientKey: CLIENT_KEY,
      requests,
      bypass: scenario.bypass ? { url: ready.servers[scenario.bypass.server], requests: bypassRequests } : undefined,
      arrivalLimitMs: scenario.seconds * 1500 + 1000,
      timeoutMs: ctx.timeoutMs,
    });
    const { servers } = await ask(ready.child, { type: 'stats' });
    // CPU cores used meanwhile by processes outside this benchmark (a shared machine skews timers).
    const wallUs = (performance.now() - before.at) * 1000;
    const otherCores = (systemBusyMicros(TICKS) - before.busy - (ours() - before.ours)) / wallUs;
    const summary = { ...summariseRun(run, servers), otherCores };
    return { summary, probes: ready.probes, types: ready.types, raw: { endpoints: ready.endpoints, results: run.results, bypass: run.bypass } };
  } finally {
    await stopChild(ready.child);
    children.delete(ready.child);
  }
}

function describeMachine() {
  const cpu = cpus();
  return { nproc: cpu.length, cpu: cpu[0]?.model ?? 'unknown', node: process.version };
}

async function main() {
  const started = performance.now();
  const ctx = setup();
  const selectors = await selectorNames();
  const machine = describeMachine();
  console.log(`llmlb fleet routing benchmark — node ${machine.node}, ${machine.nproc} CPUs (${machine.cpu}), seed ${ctx.seed}\n`);
  printFleet(ctx);
  console.log(`\nScenarios (seeded open-loop Poisson arrivals; clients abandon a request not answered in full within ${ctx.timeoutMs / 1000} s):`);
  for (const s of ctx.scenarios) {
    const direct = s.bypass ? `; other clients send ${s.bypass.rate.toFixed(1)} req/s (${s.bypass.count} requests) straight to ${s.bypass.server}` : '';
    console.log(`  ${s.key.padEnd(7)} ${s.label.padEnd(14)} ${s.rate.toFixed(1)} req/s, ${s.count} requests over ${s.seconds.toFixed(1)} s${direct}`);
  }
  console.log(`Selectors: ${selectors.join(', ')} (oracle: minimises expected ${ctx.oracle === 'ttft' ? 'time to first token, among endpoints expected to finish within 2× the earliest' : 'completion time'})\n`);

  const results = {};
  const raw = {};
  let probes;
  let types;
  for (const [index, scenario] of ctx.scenarios.entries()) {
    const requests = makeRequests({ seed: ctx.seed * 1000 + index, rate: scenario.rate, count: scenario.count, load: ctx.fleet.load });
    const bypass = scenario.bypass && makeRequests({ seed: ctx.seed * 1000 + 500 + index, rate: scenario.bypass.rate, count: scenario.bypass.count, load: ctx.fleet.load });
    results[scenario.key] = {};
    raw[scenario.key] = {};
    for (const run of runsOf(scenario, selectors, ctx.signals)) {
      process.stderr.write(`  ${scenario.key} ${run.name} …\n`);
      const one = await runOne(ctx, scenario, run, requests, bypass);
      results[scenario.key][run.name] = one.summary;
      raw[scenario.key][run.name] = one.raw;
      probes ??= one.probes;
      if (run.signals) types ??= one.types;
    }
  }
  console.log(`Health-check latency (latency_ms, what latencySelector ranks by): ${Object.entries(probes).map(([n, ms]) => `${n} ${ms} ms`).join(', ')}`);
  console.log(`Endpoint types llmlb detected (with the load figures published): ${Object.entries(types ?? {}).map(([n, t]) => `${n} ${t}`).join(', ')}\n`);
  const serverNames = ctx.fleet.servers.map((s) => s.name);
  for (const scenario of ctx.scenarios) {
    console.log(`## ${scenario.key} (${scenario.label}): ${scenario.count} requests at ${scenario.rate.toFixed(1)} req/s — times in ms; share: of the requests each server received`);
    printScenario(results[scenario.key], serverNames);
    if (scenario.bypass) printBypass(results[scenario.key], scenario.bypass.server);
    console.log('');
  }
  console.log('Ratios to the oracle (p99 TTFT: lower is better, 1 = as good as the oracle; tok/s: higher is better)');
  printRatioSummary(ctx.scenarios, results);
  const seconds = (performance.now() - started) / 1000;
  console.log(`\nTotal ${seconds.toFixed(0)} s.`);
  if (typeof args.json === 'string') {
    const out = { machine, seed: ctx.seed, fleet: ctx.fleet, means: ctx.means, capacity: ctx.capacity, scenarios: ctx.scenarios, probes, results, requests: raw, seconds };
    writeFileSync(args.json, JSON.stringify(out, null, 2));
  }
}

main().then(
  () => {
    guard.done();
    process.exit(0);
  },
  (err) => {
    console.error(err);
    guard.kill(1);
  },
);
