// Proxy benchmark: direct upstream vs a bare pass-through proxy vs llmlb, each server in its own
// child process, load generated here with autocannon (and raw node:http for time to first event).
//
//   node bench/proxy.mjs [--duration N] [--long | --soak-only] [--soak-requests N]
//                        [--scenarios ns32,c1,s32,ttfb] [--profile] [--json FILE]
//
// --duration N    seconds of the concurrency-32 non-stream run per target (default 8); the c=1 and
//                 streaming runs take half of it (at least 2 s).
// --long          after the suite, a memory soak: 1 000 000 non-stream requests through llmlb at
//                 c=32, llmlb's RSS sampled every 100 000 (target: final RSS <= 128 MB).
// --soak-only     only the soak.
// --profile       run the llmlb and bare-proxy children with --cpu-prof (written to
//                 bench/profiles/ when they exit); summarise with bench/profile-summary.mjs.
// --json FILE     also write every figure as JSON.
// --llmlb-flags "…"  extra node flags for the llmlb child, e.g. "--max-semi-space-size=4".
// --soak-requests N  requests in the soak (default 1 000 000).
// --soak-gc       run the llmlb child with --expose-gc and, at each soak sample (after reading
//                 RSS), force a full GC to report the live heap: a leak check.
// --pin           pin this process (the load generator) to CPU 0 and the servers to CPU 1
//                 (taskset): steadier figures on a 2-core machine; the servers then share one core.
// --rounds N      slices per scenario and target, interleaved across targets (default 4).
// --retry-noisy N repeat a slice up to N times when other processes used more than
//                 --noise-limit cores (default 0.25) during it (default 0: never repeat).
// --ttfb-requests N  sequential streaming requests per target for time to first event (default 200).
//
// All traffic goes to 127.0.0.1; every run is bounded in time; children exit with this process.
import autocannon from 'autocannon';
import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { clockTicks, cpuMicros, cpuSplit, mean, parseArgs, percentile, pssBytes, rssBytes, sortNumbers, systemBusyMicros } from './common.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const args = parseArgs(process.argv.slice(2));
const DURATION = Math.max(1, Number(args.duration ?? 8));
const SHORT = Math.max(2, Math.round(DURATION / 2));
const WARMUP = 2;
const SOAK_ONLY = Boolean(args['soak-only']);
const LONG = Boolean(args.long) || SOAK_ONLY;
const SOAK_REQUESTS = Math.max(1000, Number(args['soak-requests'] ?? 1_000_000));
const SCENARIOS = new Set(SOAK_ONLY ? [] : String(args.scenarios ?? 'ns32,c1,s32,ttfb').split(','));
const TTFB_REQUESTS = Math.max(20, Number(args['ttfb-requests'] ?? 200));
// Each scenario is split into ROUNDS slices per target, run in turn (direct, bare, llmlb, direct,
// …), so load from other jobs on the machine hits all three alike. A slice during which other
// processes used more than NOISE_LIMIT cores is repeated up to RETRY_NOISY times.
const ROUNDS = Math.max(1, Number(args.rounds ?? 4));
const RETRY_NOISY = Math.max(0, Number(args['retry-noisy'] ?? 0));
const NOISE_LIMIT = Number(args['noise-limit'] ?? 0.25);
const GAP_MS = 1;
const MODEL = 'bench-model';
const CLIENT_KEY = 'bench-client-key-0123456789abcdef';
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
const PATH = '/v1/chat/completions';
const BODY = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 });
const STREAM_BODY = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16, stream: true });
const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` };
// Hard ceiling for the whole run: children are killed and the process exits past it.
const GLOBAL_LIMIT_MS = (LONG ? 60 : 10) * 60_000;
const CHILD_MAX_MS = GLOBAL_LIMIT_MS + 60_000;

if (!existsSync(here('../dist/index.js')) || !existsSync(here('../dist/node.js'))) {
  console.error('dist/ is missing: run `npm run build` first (or `npm run bench`, which builds).');
  process.exit(1);
}

// ---------------------------------------------------------------- child processes
const children = [];

function start(name, script, argv, execArgv = []) {
  return new Promise((resolve, reject) => {
    const child = fork(here(script), [...argv, '--max-ms', String(CHILD_MAX_MS)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv,
    });
    children.push(child);
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 15 s`)), 15_000);
    child.once('exit', (code) => reject(new Error(`${name} exited early (code ${code})`)));
    child.on('message', (msg) => {
      if (msg?.type !== 'ready') return;
      clearTimeout(timer);
      if (args.pin) pin(child.pid, 1);
      resolve({ name, child, pid: child.pid, port: msg.port, url: `http://127.0.0.1:${msg.port}` });
    });
  });
}

function pin(pid, cpu) {
  try {
    execFileSync('taskset', ['-pc', String(cpu), String(pid)], { stdio: 'ignore' });
  } catch (err) {
    console.error(`cannot pin pid ${pid} to CPU ${cpu}: ${err.message}`);
  }
}

async function stopChildren() {
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 10_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          if (child.connected) child.send({ type: 'shutdown' });
          else child.kill('SIGTERM');
        }),
    ),
  );
}

const watchdog = setTimeout(() => {
  console.error(`benchmark exceeded ${GLOBAL_LIMIT_MS / 60_000} min: stopping`);
  for (const child of children) child.kill('SIGKILL');
  process.exit(2);
}, GLOBAL_LIMIT_MS);
watchdog.unref();
process.on('SIGINT', () => {
  for (const child of children) child.kill('SIGKILL');
  process.exit(130);
});

function askMemory(child, gc = false) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), 2000);
    const onMessage = (msg) => {
      if (msg?.type !== 'memory') return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(msg);
    };
    child.on('message', onMessage);
    child.send({ type: 'memory', gc });
  });
}

// ---------------------------------------------------------------- noise
// CPU used on the machine by processes other than this benchmark's, per run (in cores): other
// jobs on a 2-core box distort every figure, so each run reports it.
let TICKS = 100;
const noise = [];
function ourCpu() {
  let total = 0;
  for (const pid of [process.pid, ...children.map((c) => c.pid)]) {
    try {
      total += cpuMicros(pid, TICKS);
    } catch {
      // exited
    }
  }
  return total;
}
async function measured(label, fn) {
  const sys0 = systemBusyMicros(TICKS);
  const our0 = ourCpu();
  const t0 = performance.now();
  const value = await fn();
  const wallUs = (performance.now() - t0) * 1000;
  const other = (systemBusyMicros(TICKS) - sys0 - (ourCpu() - our0)) / wallUs;
  noise.push({ label, otherCores: other });
  return { value, other };
}

// ---------------------------------------------------------------- load generation
/** One autocannon run; latencies (ms, float) are collected from every response. */
function cannon({ url, connections, duration, amount, body }) {
  return new Promise((resolve, reject) => {
    const latencies = [];
    const opts = { url: url + PATH, method: 'POST', headers: HEADERS, body, connections, pipelining: 1, timeout: 10 };
    if (amount) opts.amount = amount;
    else opts.duration = duration;
    const limitMs = amount ? 600_000 : (duration + 20) * 1000;
    let stopper;
    const instance = autocannon(opts, (err, result) => {
      clearTimeout(stopper);
      if (err) return reject(err);
      resolve({ result, latencies });
    });
    stopper = setTimeout(() => instance.stop(), limitMs);
    if (!amount) instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  });
}

/** Merges the slices of one target in one scenario. */
function summarise(parts) {
  let ok = 0;
  let bad = 0;
  let seconds = 0;
  let user = 0;
  let sys = 0;
  let up = 0;
  const latencies = [];
  for (const { result, latencies: l, cpu } of parts) {
    ok += result['2xx'];
    bad += result.non2xx + result.errors + result.timeouts;
    seconds += result.duration;
    user += cpu.user;
    sys += cpu.sys;
    up += cpu.upstream;
    for (const v of l) latencies.push(v);
  }
  const sorted = sortNumbers(latencies);
  return {
    ok,
    bad,
    seconds,
    rps: ok / seconds,
    mean: mean(sorted),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    userPerReq: user / ok,
    sysPerReq: sys / ok,
    cpuPerReq: (user + sys) / ok,
    upstreamCpuPerReq: up / ok,
  };
}

/** Sequential streaming requests with raw node:http: time to the first SSE event, event spacing. */
async function ttfbRuns(url, count, gapMs) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const one = () =>
    new Promise((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const req = http.request(
        url + PATH,
        {
          method: 'POST',
          agent,
          headers: { ...HEADERS, 'content-length': Buffer.byteLength(STREAM_BODY), 'x-bench-gap-ms': String(gapMs) },
        },
        (res) => {
          let first = null;
          let last = null;
          let events = 0;
          let chunks = 0;
          let prevEndsWithNl = false;
          res.on('data', (chunk) => {
            const t = process.hrtime.bigint();
            const text = chunk.latin1Slice(0, chunk.length);
            let n = 0;
            if (prevEndsWithNl && text.startsWith('\n')) n++;
            for (let i = text.indexOf('\n\n'); i !== -1; i = text.indexOf('\n\n', i + 2)) n++;
            prevEndsWithNl = text.endsWith('\n');
            chunks++;
            if (n > 0) {
              if (first === null) first = t;
              last = t;
              events += n;
            }
          });
          res.on('end', () => {
            if (res.statusCode !== 200 || first === null) return reject(new Error(`bad stream from ${url}: HTTP ${res.statusCode}`));
            resolve({
              ttfb: Number(first - t0) / 1e6,
              events,
              chunks,
              gap: events > 1 ? Number(last - first) / 1e6 / (events - 1) : NaN,
            });
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(STREAM_BODY);
    });
  for (let i = 0; i < 5; i++) await one(); // warm-up (new connection, JIT)
  const runs = [];
  for (let i = 0; i < count; i++) runs.push(await one());
  agent.destroy();
  return runs;
}

function summariseTtfb(runs) {
  const count = runs.length;
  const ttfbs = sortNumbers(runs.map((r) => r.ttfb));
  const events = runs.reduce((s, r) => s + r.events, 0);
  const chunks = runs.reduce((s, r) => s + r.chunks, 0);
  return {
    count,
    p50: percentile(ttfbs, 50),
    p99: percentile(ttfbs, 99),
    mean: mean(ttfbs),
    eventsPerRequest: events / count,
    eventsPerChunk: events / chunks,
    gap: mean(runs.map((r) => r.gap)),
  };
}

/** One request, checked for status and shape, so a fast 401 is never mistaken for speed. */
function probe(url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url + PATH, { method: 'POST', headers: { ...HEADERS, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200 || !text.includes('chatcmpl-bench')) {
          reject(new Error(`${url}: HTTP ${res.statusCode} ${text.slice(0, 200)}`));
        } else resolve(res.headers);
      });
    });
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------- formatting
const f = (v, digits = 2) => (v === undefined || v === null || Number.isNaN(v) ? '-' : v.toFixed(digits));
const fi = (v) => (v === undefined || Number.isNaN(v) ? '-' : Math.round(v).toLocaleString('en-US'));
const pad = (s, n) => String(s).padStart(n);
const verdict = (ok) => (ok ? 'PASS' : 'MISS');

function table(rows, columns) {
  const width = [Math.max(...rows.map((r) => r[0].length)), ...columns.slice(1).map((c) => Math.max(c.length, 10))];
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(width[0]) : pad(c, width[i]))).join('  ');
  console.log(line(columns));
  console.log(width.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

// ---------------------------------------------------------------- main
async function main() {
  const ticks = clockTicks();
  if (args.pin) pin(process.pid, 0);
  TICKS = ticks;
  const execArgv = [];
  if (args.profile) {
    const dir = here('./profiles/');
    mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', '--cpu-prof-dir', dir);
  }
  const upstream = await start('upstream', './upstream.mjs', ['--model', MODEL]);
  const llmlbFlags = typeof args['llmlb-flags'] === 'string' ? args['llmlb-flags'].split(/\s+/).filter(Boolean) : [];
  if (args['soak-gc']) llmlbFlags.push('--expose-gc');
  const [bare, llmlb] = await Promise.all([
    start('bare-proxy', './bare-proxy.mjs', ['--upstream', upstream.url], execArgv),
    start('llmlb', './llmlb-server.mjs', ['--upstream', upstream.url, '--client-key', CLIENT_KEY, '--admin-key', ADMIN_KEY, '--model', MODEL], [...execArgv, ...llmlbFlags]),
  ]);
  const targets = [
    { key: 'direct', label: 'direct', url: upstream.url, pid: upstream.pid },
    { key: 'bare', label: 'bare proxy', url: bare.url, pid: bare.pid },
    { key: 'llmlb', label: 'llmlb', url: llmlb.url, pid: llmlb.pid },
  ];
  for (const t of targets) {
    await probe(t.url, BODY);
    await probe(t.url, STREAM_BODY);
  }
  const llmlbHeaders = await probe(llmlb.url, BODY);
  if (!llmlbHeaders['x-llmlb-endpoint']) throw new Error('llmlb answered without x-llmlb-endpoint');

  console.log(`llmlb proxy benchmark — node ${process.version}, ${DURATION}s per c=32 run, ${SHORT}s per c=1/stream run`);
  console.log(`pids: upstream ${upstream.pid}, bare ${bare.pid}, llmlb ${llmlb.pid}; load generator (autocannon) ${process.pid}\n`);

  const out = { node: process.version, duration: DURATION, short: SHORT, results: {}, soak: null };
  for (const t of targets) out.results[t.key] = {};
  const R = out.results;
  const progress = (msg) => process.stderr.write(`  ${msg}\n`);

  /** Runs `once(target, share)` ROUNDS times per target, interleaved; returns the slices per target. */
  const interleave = async (scenario, once) => {
    const parts = { direct: [], bare: [], llmlb: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const t of targets) {
        for (let attempt = 0; ; attempt++) {
          const { value, other } = await measured(`${scenario} ${t.key} #${r + 1}`, () => once(t));
          if (other <= NOISE_LIMIT || attempt >= RETRY_NOISY) {
            parts[t.key].push(value);
            noise[noise.length - 1].kept = true;
            break;
          }
          progress(`    ${scenario} ${t.label}: ${f(other)} cores used by other processes, repeating the slice`);
        }
      }
    }
    return parts;
  };
  /** One autocannon slice with the CPU used meanwhile by the target process and the upstream. */
  const slice = async (t, connections, seconds, body) => {
    const before = { proc: cpuSplit(t.pid, ticks), up: cpuMicros(upstream.pid, ticks) };
    const run = await cannon({ url: t.url, connections, duration: seconds, body });
    const after = cpuSplit(t.pid, ticks);
    run.cpu = { user: after.user - before.proc.user, sys: after.sys - before.proc.sys, upstream: cpuMicros(upstream.pid, ticks) - before.up };
    return run;
  };

  if (SCENARIOS.has('ns32') || SCENARIOS.has('c1')) {
    for (const t of targets) {
      progress(`warm-up ${t.label} (${WARMUP}s, c=32)`);
      await cannon({ url: t.url, connections: 32, duration: WARMUP, body: BODY });
    }
  }
  if (SCENARIOS.has('ns32')) {
    progress(`non-stream c=32: ${ROUNDS} x ${f(DURATION / ROUNDS, 1)}s per target`);
    const parts = await interleave('ns32', (t) => slice(t, 32, DURATION / ROUNDS, BODY));
    for (const t of targets) R[t.key].ns32 = summarise(parts[t.key]);
  }
  if (SCENARIOS.has('c1')) {
    progress(`non-stream c=1: ${ROUNDS} x ${f(SHORT / ROUNDS, 1)}s per target`);
    const parts = await interleave('c1', (t) => slice(t, 1, SHORT / ROUNDS, BODY));
    for (const t of targets) R[t.key].c1 = summarise(parts[t.key]);
  }
  if (SCENARIOS.has('s32')) {
    for (const t of targets) {
      progress(`warm-up stream ${t.label} (1s, c=32)`);
      await cannon({ url: t.url, connections: 32, duration: 1, body: STREAM_BODY });
    }
    progress(`stream c=32: ${ROUNDS} x ${f(SHORT / ROUNDS, 1)}s per target`);
    const parts = await interleave('s32', (t) => slice(t, 32, SHORT / ROUNDS, STREAM_BODY));
    for (const t of targets) R[t.key].s32 = summarise(parts[t.key]);
  }
  if (SCENARIOS.has('ttfb')) {
    const per = Math.ceil(TTFB_REQUESTS / ROUNDS);
    progress(`time to first SSE event: ${ROUNDS} x ${per} sequential streams per target, events ${GAP_MS} ms apart`);
    const parts = await interleave('ttfb', (t) => ttfbRuns(t.url, per, GAP_MS));
    for (const t of targets) R[t.key].ttfb = summariseTtfb(parts[t.key].flat());
  }

  if (SCENARIOS.size > 0) {
    report(R);
    const kept = noise.filter((n) => n.kept);
    const worst = kept.reduce((a, b) => (b.otherCores > a.otherCores ? b : a), { otherCores: 0 });
    const avg = mean(kept.map((n) => n.otherCores));
    const noisy = kept.filter((n) => n.otherCores > NOISE_LIMIT).length;
    console.log(
      `\nOther load on the machine during the kept slices (CPU cores used by processes outside this benchmark, of ` +
        `${(await import('node:os')).cpus().length}): mean ${f(avg)}, worst ${f(worst.otherCores)} (${worst.label ?? '-'}); ` +
        `${noisy} of ${kept.length} kept slices above ${NOISE_LIMIT}` +
        (noise.length > kept.length ? `, ${noise.length - kept.length} noisy slices repeated` : '') +
        (avg > 0.1 ? '  — figures are disturbed; rerun on a quiet machine (or with --retry-noisy 3)' : ''),
    );
    out.noise = noise;
  }

  if (LONG) out.soak = await soak(llmlb);

  if (args.profile) {
    const [b, l] = [await askMemory(bare.child), await askMemory(llmlb.child)];
    console.log(
      `\nProfiles (written when the children exit) in bench/profiles/: bare proxy pid ${bare.pid} served ${b?.requests} requests, ` +
        `llmlb pid ${llmlb.pid} served ${l?.requests}. Summarise with: node bench/profile-summary.mjs bench/profiles/CPU.*.<pid>.*.cpuprofile --requests <n>`,
    );
  }
  await stopChildren();
  if (args.json) writeFileSync(args.json, JSON.stringify(out, null, 2));
}

function report(R) {
  const cols = ['', 'direct', 'bare proxy', 'llmlb'];
  const keys = ['direct', 'bare', 'llmlb'];
  const row = (label, get, fmt = f) => [label, ...keys.map((k) => fmt(get(R[k])))];
  const rows = [];
  if (R.llmlb.ns32) {
    rows.push(row('non-stream c=32  req/s', (r) => r.ns32?.rps, fi));
    rows.push(row('non-stream c=32  p50 ms', (r) => r.ns32?.p50));
    rows.push(row('non-stream c=32  p99 ms', (r) => r.ns32?.p99));
    rows.push(row('CPU µs/request (server proc.)', (r) => r.ns32?.cpuPerReq, (v) => f(v, 0)));
    rows.push(row('  of which user / sys', (r) => r.ns32 && `${f(r.ns32.userPerReq, 0)} / ${f(r.ns32.sysPerReq, 0)}`, String));
    rows.push(row('  upstream CPU µs/request', (r) => r.ns32?.upstreamCpuPerReq, (v) => f(v, 0)));
  }
  if (R.llmlb.c1) {
    rows.push(row('one at a time   req/s', (r) => r.c1?.rps, fi));
    rows.push(row('one at a time   p50 ms', (r) => r.c1?.p50, (v) => f(v, 3)));
    rows.push(row('one at a time   p99 ms', (r) => r.c1?.p99, (v) => f(v, 3)));
  }
  if (R.llmlb.s32) {
    rows.push(row('stream c=32     req/s', (r) => r.s32?.rps, fi));
    rows.push(row('stream c=32     p50 ms', (r) => r.s32?.p50));
    rows.push(row('stream c=32     p99 ms', (r) => r.s32?.p99));
    rows.push(row('stream CPU µs/request', (r) => r.s32?.cpuPerReq, (v) => f(v, 0)));
  }
  if (R.llmlb.ttfb) {
    rows.push(row('first SSE event p50 ms', (r) => r.ttfb?.p50, (v) => f(v, 3)));
    rows.push(row('first SSE event p99 ms', (r) => r.ttfb?.p99, (v) => f(v, 3)));
    rows.push(row('SSE events per request', (r) => r.ttfb?.eventsPerRequest, (v) => f(v, 1)));
    rows.push(row('SSE events per read chunk', (r) => r.ttfb?.eventsPerChunk));
    rows.push(row(`mean gap between events ms`, (r) => r.ttfb?.gap, (v) => f(v, 3)));
  }
  const errors = keys.map((k) => ['ns32', 'c1', 's32'].reduce((s, sc) => s + (R[k][sc]?.bad ?? 0), 0));
  rows.push(['errors (non-2xx, errors, timeouts)', ...errors.map(String)]);
  table(rows, cols);

  console.log('\nTargets');
  const lines = [];
  const add = (name, value, target, ok) => lines.push([name, value, target, verdict(ok)]);
  if (R.llmlb.ns32) {
    const r = R.llmlb.ns32.rps / R.bare.ns32.rps;
    add('throughput llmlb / bare (c=32)', f(r, 3), '>= 0.9', r >= 0.9);
    lines.push(['throughput llmlb / direct (c=32)', f(R.llmlb.ns32.rps / R.direct.ns32.rps, 3), '(info)', '']);
    lines.push(['throughput bare / direct (c=32)', f(R.bare.ns32.rps / R.direct.ns32.rps, 3), '(info)', '']);
    add('CPU per request in llmlb', `${f(R.llmlb.ns32.cpuPerReq, 0)} µs`, '<= 200 µs', R.llmlb.ns32.cpuPerReq <= 200);
    lines.push(['CPU per request in bare proxy', `${f(R.bare.ns32.cpuPerReq, 0)} µs`, '(info)', '']);
  }
  if (R.llmlb.c1) {
    const p50 = R.llmlb.c1.p50 - R.direct.c1.p50;
    const p99 = R.llmlb.c1.p99 - R.direct.c1.p99;
    add('added latency c=1, median', `${f(p50, 3)} ms`, '<= 0.3 ms', p50 <= 0.3);
    add('added latency c=1, p99', `${f(p99, 3)} ms`, '<= 1 ms', p99 <= 1);
    lines.push(['  bare proxy: added median / p99', `${f(R.bare.c1.p50 - R.direct.c1.p50, 3)} / ${f(R.bare.c1.p99 - R.direct.c1.p99, 3)} ms`, '(info)', '']);
  }
  if (R.llmlb.ttfb) {
    const d50 = R.llmlb.ttfb.p50 - R.direct.ttfb.p50;
    add('first-event time added, median', `${f(d50, 3)} ms`, '<= 1 ms', d50 <= 1);
    lines.push(['first-event time added, p99', `${f(R.llmlb.ttfb.p99 - R.direct.ttfb.p99, 3)} ms`, '(info)', '']);
    const coalesced = R.llmlb.ttfb.eventsPerChunk > R.direct.ttfb.eventsPerChunk * 1.1 + 0.05;
    add('no coalescing (events/chunk llmlb vs direct)', `${f(R.llmlb.ttfb.eventsPerChunk)} vs ${f(R.direct.ttfb.eventsPerChunk)}`, 'same', !coalesced);
  }
  if (R.llmlb.s32) {
    const r = R.llmlb.s32.rps / R.direct.s32.rps;
    add('stream throughput llmlb / direct', f(r, 3), '>= 0.5', r >= 0.5);
    lines.push(['stream throughput llmlb / bare', f(R.llmlb.s32.rps / R.bare.s32.rps, 3), '(info)', '']);
  }
  table(lines, ['', 'measured', 'target', 'result']);
}

async function soak(llmlb) {
  const step = Math.min(100_000, SOAK_REQUESTS);
  const steps = Math.ceil(SOAK_REQUESTS / step);
  console.log(`\nMemory soak: ${SOAK_REQUESTS.toLocaleString('en-US')} non-stream requests through llmlb at c=32`);
  const samples = [];
  const sample = async (done, seconds, bad) => {
    // RSS first: with --soak-gc the memory request below forces a full GC.
    const rss = rssBytes(llmlb.pid);
    const smaps = pssBytes(llmlb.pid);
    const mem = await askMemory(llmlb.child, Boolean(args['soak-gc']));
    const MB = (v) => (mem ? v / 2 ** 20 : NaN);
    const s = {
      requests: done,
      rssMB: rss / 2 ** 20,
      privateMB: smaps.privateDirty / 2 ** 20,
      sharedCleanMB: smaps.sharedClean / 2 ** 20,
      heapUsedMB: MB(mem?.heapUsed),
      heapTotalMB: MB(mem?.heapTotal),
      externalMB: MB(mem?.external),
      liveHeapMB: mem?.liveHeap ? mem.liveHeap / 2 ** 20 : null,
      seconds,
      bad,
    };
    samples.push(s);
    console.log(
      `  ${pad(done.toLocaleString('en-US'), 9)} requests  RSS ${pad(f(s.rssMB, 1), 6)} MB (private ${pad(f(s.privateMB, 1), 5)}, shared ${pad(f(s.sharedCleanMB, 1), 4)})  heap used ${pad(f(s.heapUsedMB, 1), 5)} / total ` +
        `${pad(f(s.heapTotalMB, 1), 5)} MB  external ${pad(f(s.externalMB, 1), 4)} MB` +
        (s.liveHeapMB !== null ? `  live heap after GC ${f(s.liveHeapMB, 1)} MB` : '') +
        (seconds ? `  (${fi(step / seconds)} req/s${bad ? `, ${bad} failed` : ''})` : ''),
    );
  };
  await sample(0, 0, 0);
  let done = 0;
  for (let i = 0; i < steps; i++) {
    const amount = Math.min(step, SOAK_REQUESTS - done);
    const { result } = await cannon({ url: llmlb.url, connections: 32, amount, body: BODY });
    done += result['2xx'];
    await sample(done, result.duration, result.non2xx + result.errors + result.timeouts);
  }
  const final = samples[samples.length - 1];
  const peak = Math.max(...samples.map((s) => s.rssMB));
  console.log(
    `  final RSS ${f(final.rssMB, 1)} MB (peak ${f(peak, 1)} MB; private ${f(final.privateMB, 1)} MB, the rest is mostly the shared node binary), ` +
      `target <= 128 MB: ${verdict(final.rssMB <= 128)}`,
  );
  return { samples, finalRssMB: final.rssMB, peakRssMB: peak, finalPrivateMB: final.privateMB };
}

main().then(
  () => {
    clearTimeout(watchdog);
    process.exit(0);
  },
  async (err) => {
    console.error(err);
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  },
);
