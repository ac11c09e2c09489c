// Reliability benchmark of the llmlb proxy: failover, passive strikes, suspension, mid-stream
// deaths and leaks, on real sockets between real processes (upstreams and llmlb are forked
// children; the load generator runs here). Everything talks to 127.0.0.1 only; every loop is
// bounded in count and time; children exit with this process.
//
//   npm run bench:reliability              # every scenario (~2 min)
//   node bench/reliability.mjs --only 1,4  # some of them (ids: 1 2 3 3b 4 5 6)
//   node bench/reliability.mjs --json out.json
// Other flags: --concurrency 32, --duration 10 (s, scenarios 1–2), --upstream-delay 10 (ms),
// --s3-interval 10, --s3-concurrency 16, --faulty 10000 (scenario 5).
//
// See bench/RELIABILITY.md for what each scenario does and the results.
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { ask, killHard, ms, now, rssKb, sleep, spawnChild, stopChild, summarize, seededRandom } from './reliability/lib.mjs';
import { createAgent, chat, runLoad, streamEnding } from './reliability/load.mjs';

// ---- options -----------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = argv.indexOf(`--${name}`);
  return at === -1 ? fallback : argv[at + 1];
};
const ONLY = new Set((flag('only', '1,2,3,3b,4,5,6') ?? '').split(',').map((s) => s.trim()).filter(Boolean));
const JSON_OUT = flag('json', undefined);
const CONCURRENCY = Number(flag('concurrency', 32));
const DURATION_MS = Number(flag('duration', 10)) * 1000;
const UPSTREAM_DELAY_MS = Number(flag('upstream-delay', 10));
const S3_INTERVAL = Number(flag('s3-interval', 10));
const S3_CONCURRENCY = Number(flag('s3-concurrency', 16));
const FAULTY = Number(flag('faulty', 10_000));
const GLOBAL_LIMIT_MS = 8 * 60_000;

for (const file of ['../dist/index.js', '../dist/node.js']) {
  if (!existsSync(new URL(file, import.meta.url))) {
    console.error(`missing ${file.slice(3)}: run \`npm run build\` first (or \`npm run bench:reliability\`)`);
    process.exit(1);
  }
}

// ---- child bookkeeping -------------------------------------------------------------------------
const children = new Set();

async function upstream(config) {
  const ready = await spawnChild('upstream.mjs', { maxMs: GLOBAL_LIMIT_MS, ...config });
  children.add(ready.child);
  ready.child.once('exit', () => children.delete(ready.child));
  return { ...ready, config, url: `http://127.0.0.1:${ready.port}` };
}

async function llmlb(config, execArgv = []) {
  const start = () => spawnChild('llmlb.mjs', { maxMs: GLOBAL_LIMIT_MS, ...config }, { execArgv, timeoutMs: 20_000 });
  let ready;
  try {
    ready = await start();
  } catch (err) {
    // Most often dist/ being rebuilt by someone else at that moment: try once more.
    console.log(`  (llmlb child did not start: ${err.message}; retrying once in 3 s)`);
    await sleep(3_000);
    ready = await start();
  }
  children.add(ready.child);
  ready.child.once('exit', () => children.delete(ready.child));
  return { ...ready, url: `http://127.0.0.1:${ready.port}` };
}

async function stopAll() {
  await Promise.all([...children].map((child) => stopChild(child)));
}

const watchdog = setTimeout(async () => {
  console.error(`reliability bench: over ${GLOBAL_LIMIT_MS / 1000} s, giving up`);
  await stopAll();
  process.exit(2);
}, GLOBAL_LIMIT_MS);
watchdog.unref();

/** A port with nothing listening on it (bound once, then released). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// ---- reporting ---------------------------------------------------------------------------------
const rows = []; // { scenario, metric, target, measured, pass }
const report = {};
const verdict = (pass) => (pass === null ? 'n/a ' : pass ? 'PASS' : 'MISS');
function row(scenario, metric, target, measured, pass) {
  rows.push({ scenario, metric, target, measured, pass });
  console.log(`  [${verdict(pass)}] ${metric}: ${measured} (target ${target})`);
}
const pct = (n, d) => (d === 0 ? '—' : `${((100 * n) / d).toFixed(3)} %`);
const fmtStats = (s) => `n=${s.n} p50=${ms(s.p50)} p99=${ms(s.p99)} max=${ms(s.max)}`;
const count = (list, pred) => list.reduce((n, x) => n + (pred(x) ? 1 : 0), 0);

/** Client-side view of non-streamed results. */
function clientErrors(results) {
  const ok = count(results, (r) => r.status === 200 && !r.bodyError);
  const beforeByte = results.filter((r) => r.status !== 200);
  const afterByte = results.filter((r) => r.status === 200 && r.bodyError);
  const byStatus = {};
  for (const r of beforeByte) {
    const key = r.status === 0 ? `no response (${r.bodyError})` : `HTTP ${r.status}`;
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
  return { total: results.length, ok, beforeByte: beforeByte.length, afterByte: afterByte.length, byStatus };
}

// ---- scenario 1: one of three upstreams SIGKILLed under load ----------------------------------
async function scenario1() {
  console.log(`\n## 1. one of 3 upstreams SIGKILLed under load (c=${CONCURRENCY}, non-stream, ${DURATION_MS / 1000} s, upstream delay ${UPSTREAM_DELAY_MS} ms)`);
  const ups = await Promise.all([0, 1, 2].map(() => upstream({ delayMs: UPSTREAM_DELAY_MS })));
  const lb = await llmlb({ endpoints: ups.map((u, i) => ({ name: `u${i + 1}`, base_url: u.url })), selector: 'round-robin' });
  const agent = createAgent(CONCURRENCY);
  let killAt = null;
  const killer = setTimeout(() => {
    killAt = now();
    void killHard(ups[0].child);
  }, DURATION_MS / 2);
  const { results, elapsedMs } = await runLoad({ agent, baseUrl: lb.url, concurrency: CONCURRENCY, durationMs: DURATION_MS, next: () => ({ model: 'm' }) });
  clearTimeout(killer);
  await agent.close();
  const summary = await ask(lb.child, { type: 'summary', timeline: true });
  await stopAll();

  const errors = clientErrors(results);
  const normal = summary.latency['1'] ?? summarize([]);
  // The kill slows every request for a moment (CPU spent on the teardown, traffic moving to the
  // survivors), so also compare each failover with the 1-attempt requests that ended within
  // ±250 ms of it: what the failover itself cost.
  const singles = summary.timeline.filter(([, attempts]) => attempts === 1);
  const nearby = (t) => {
    const around = singles.filter(([end]) => Math.abs(end - t) <= 250).map(([, , d]) => d);
    return around.length === 0 ? normal.p50 : summarize(around).p50;
  };
  const addedNearby = summarize(summary.retried.map((r) => r.duration_ms - nearby(r.t)));
  const retriedDurations = summary.retried.map((r) => r.duration_ms);
  const failover = summarize(retriedDurations);
  const added = summarize(retriedDurations.map((d) => d - normal.p50));
  // Time spent before the answering attempt began (on the dead upstream, noticing it, choosing
  // again), net of the usual relay time: duration − ttfb of the answering attempt.
  const relay = summary.outsideTtfb['1']?.p50 ?? 0;
  const lost = summarize(summary.retried.filter((r) => r.ttfb_ms !== null).map((r) => r.duration_ms - r.ttfb_ms - relay));
  const attemptsHist = Object.fromEntries(Object.entries(summary.latency).map(([k, v]) => [k, v.n]));
  console.log(`  ${results.length} requests in ${(elapsedMs / 1000).toFixed(1)} s (${Math.round(results.length / (elapsedMs / 1000))} req/s); u1 SIGKILLed at +${((killAt - results[0].t0) / 1000).toFixed(1)} s`);
  console.log(`  attempts per request (events): ${JSON.stringify(attemptsHist)}; failed attempts on u1: ${summary.failureCounts.u1 ?? 0}`);
  console.log(`  client: ${errors.ok} ok, ${errors.beforeByte} non-200 ${JSON.stringify(errors.byStatus)}, ${errors.afterByte} broken after a byte`);
  console.log(`  duration_ms, 1 attempt   : ${fmtStats(normal)}`);
  console.log(`  duration_ms, >1 attempts : ${fmtStats(failover)}`);
  console.log(`  added by failover (vs p50 of 1 attempt): p50=${ms(added.p50)} p99=${ms(added.p99)} max=${ms(added.max)}`);
  console.log(`  added by failover (vs p50 of 1-attempt requests ending within ±250 ms): p50=${ms(addedNearby.p50)} max=${ms(addedNearby.max)}`);
  console.log(`  of which before the answering attempt (on the dead upstream + re-selection): p50=${ms(lost.p50)} max=${ms(lost.max)}`);
  row('1 kill 1 of 3', 'client-visible errors before any byte', '0', `${errors.beforeByte} of ${errors.total} (plus ${errors.afterByte} after a byte)`, errors.beforeByte === 0);
  row(
    '1 kill 1 of 3',
    'latency added by each failover (max over failed-over requests, vs p50 of 1-attempt requests ending within ±250 ms)',
    '≤ 50 ms',
    failover.n === 0
      ? 'no failover happened'
      : `max +${addedNearby.max.toFixed(1)} ms, p50 +${addedNearby.p50.toFixed(1)} ms (${failover.n} failovers; vs the overall p50: max +${added.max.toFixed(1)} ms)`,
    failover.n === 0 ? null : addedNearby.max <= 50,
  );
  report.scenario1 = { requests: results.length, elapsedMs, errors, attemptsHist, normal, failover, added, addedNearby, lost, retried: summary.retried, failureCounts: summary.failureCounts };
}

// ---- scenario 2: 10 % of upstream answers are 503 ----------------------------------------------
async function scenario2() {
  const p = 0.1;
  console.log(`\n## 2. each of 3 upstreams answers 503 with probability ${p} (c=${CONCURRENCY}, non-stream, ${DURATION_MS / 1000} s)`);
  const ups = await Promise.all([0, 1, 2].map((i) => upstream({ delayMs: UPSTREAM_DELAY_MS, p503: p, seed: 1000 + i })));
  const lb = await llmlb({ endpoints: ups.map((u, i) => ({ name: `u${i + 1}`, base_url: u.url })), selector: 'round-robin' });
  const agent = createAgent(CONCURRENCY);
  const { results, elapsedMs } = await runLoad({ agent, baseUrl: lb.url, concurrency: CONCURRENCY, durationMs: DURATION_MS, next: () => ({ model: 'm' }) });
  await agent.close();
  const summary = await ask(lb.child, { type: 'summary' });
  const stats = await Promise.all(ups.map((u) => ask(u.child, { type: 'stats' })));
  await stopAll();

  const errors = clientErrors(results);
  const injected = stats.reduce((n, s) => n + s.answered503, 0);
  const inference = stats.reduce((n, s) => n + s.inference, 0);
  const checks = Object.values(summary.checkCounts).reduce((a, b) => a + b, 0);
  const attemptsHist = Object.fromEntries(Object.entries(summary.latency).map(([k, v]) => [k, v.n]));
  const rate = errors.ok / errors.total;
  console.log(`  ${results.length} requests in ${(elapsedMs / 1000).toFixed(1)} s (${Math.round(results.length / (elapsedMs / 1000))} req/s)`);
  console.log(`  upstreams: ${inference} inference answers, ${injected} of them 503 (${pct(injected, inference)})`);
  console.log(`  attempts per request (events): ${JSON.stringify(attemptsHist)}`);
  console.log(`  client: ${errors.ok} ok, non-200 ${JSON.stringify(errors.byStatus)}, ${errors.afterByte} broken after a byte`);
  console.log(`  health checks run (passive strikes → immediate checks): ${checks} (${(checks / Math.max(1, injected)).toFixed(2)} per injected 503)`);
  console.log(`  best possible with retries=2 over 3 endpoints: 1 − ${p}³ = ${(100 * (1 - p ** 3)).toFixed(1)} %`);
  row('2 10 % 503', 'success rate', '≥ 99.9 %', `${pct(errors.ok, errors.total)} (${errors.total - errors.ok} failed of ${errors.total})`, rate >= 0.999);
  report.scenario2 = { requests: results.length, elapsedMs, errors, injected, inference, attemptsHist, checks, successRate: rate };
}

// ---- scenario 3: a dead upstream stops getting traffic, and comes back -------------------------
async function scenario3({ id = '3', interval = S3_INTERVAL, concurrency = S3_CONCURRENCY, restart = true } = {}) {
  const label = `${id} passive strike${restart ? '' : ` (c=${concurrency}, interval ${interval} s)`}`;
  console.log(
    `\n## ${id}. passive strike: 2 upstreams, load c=${concurrency}, kill one${restart ? ', restart it' : ''} (health_check_interval_secs=${interval})`,
  );
  const ups = await Promise.all([0, 1].map(() => upstream({ delayMs: UPSTREAM_DELAY_MS })));
  const lb = await llmlb({ endpoints: ups.map((u, i) => ({ name: `u${i + 1}`, base_url: u.url })), selector: 'round-robin', interval });
  const agent = createAgent(concurrency);
  let done = false;
  const loadStart = now();
  const load = runLoad({ agent, baseUrl: lb.url, concurrency, durationMs: 150_000, next: () => ({ model: 'm' }), stop: () => done });

  await sleep(3_000);
  const killAt = now();
  await killHard(ups[0].child);
  // Watch past the suspension (10 s) and the next scheduled check (interval): 15 s of load at
  // least, or interval + 5 s.
  await sleep(restart ? Math.max(15_000, interval * 1000 + 5_000) : 15_000);
  const restartAt = now();
  const back = restart ? await upstream({ delayMs: UPSTREAM_DELAY_MS, port: ups[0].port }) : null;
  const readyAt = now();
  await ask(lb.child, { type: 'watch', name: 'u1' });
  let servedAgain = null;
  const until = restart ? now() + interval * 1000 + 15_000 : 0;
  while (now() < until) {
    const entry = await ask(lb.child, { type: 'endpoint', name: 'u1' });
    if (entry.firstServedSinceWatch !== null) {
      servedAgain = entry.firstServedSinceWatch;
      break;
    }
    await sleep(100);
  }
  await sleep(500);
  done = true;
  const { results } = await load;
  await agent.close();
  const summary = await ask(lb.child, { type: 'summary' });
  await stopAll();
  void back;

  const errors = clientErrors(results);
  const dead = (summary.failures.u1 ?? []).filter((f) => f.t >= killAt && f.t < restartAt);
  const firstFail = dead[0]?.t ?? null;
  const lastFail = dead.at(-1)?.t ?? null;
  // Group the failed attempts into bursts (gaps > 100 ms) to show when traffic went to the dead upstream.
  const bursts = [];
  for (const f of dead) {
    const last = bursts.at(-1);
    if (last && f.t - last.end <= 100) {
      last.end = f.t;
      last.n++;
    } else bursts.push({ start: f.t, end: f.t, n: 1 });
  }
  const u1Checks = summary.checks.filter((c) => c.name === 'u1' && c.t >= killAt);
  const firstGoodCheck = u1Checks.find((c) => c.success && c.t >= readyAt)?.t ?? null;
  const stopMs = firstFail === null ? null : lastFail - firstFail;
  const earlyChecks = firstFail === null ? 0 : count(u1Checks, (c) => c.t - firstFail < 1000);
  console.log(`  ${results.length} requests; client: ${errors.ok} ok, non-200 ${JSON.stringify(errors.byStatus)}, ${errors.afterByte} broken after a byte`);
  console.log(`  u1 SIGKILLed at +${((killAt - loadStart) / 1000).toFixed(1)} s; first failed attempt ${firstFail === null ? '—' : `${(firstFail - killAt).toFixed(1)} ms later`}`);
  console.log(
    `  failed attempts on the dead u1 (${dead.length}), in bursts [offset from the first failure: count]: ${bursts
      .map((b) => `+${(b.start - firstFail).toFixed(0)} ms: ${b.n}`)
      .join(', ')}`,
  );
  console.log(
    `  checks of u1 after the kill [offset from the first failure: result → status]: ${u1Checks
      .map((c) => `+${(c.t - firstFail).toFixed(0)} ms: ${c.success ? 'ok' : c.kind} → ${c.status}`)
      .join(', ')}`,
  );
  console.log(`  checks of u1 within 1 s of the first failure: ${earlyChecks} (two failed checks in a row take an online endpoint offline)`);
  if (restart) console.log(
    `  u1 restarted on port ${ups[0].port}: ready ${(readyAt - restartAt).toFixed(0)} ms after the fork; first successful check ${
      firstGoodCheck === null ? '—' : `+${(firstGoodCheck - readyAt).toFixed(0)} ms`
    }; first request served ${servedAgain === null ? 'never' : `+${(servedAgain - readyAt).toFixed(0)} ms`} after ready`,
  );
  row(
    label,
    'dead upstream stops getting requests (last − first failed attempt on it)',
    '≤ 1000 ms',
    stopMs === null ? 'no failed attempt seen' : `${stopMs.toFixed(0)} ms (${dead.length} failed attempts in ${bursts.length} burst${bursts.length === 1 ? '' : 's'})`,
    stopMs === null ? null : stopMs <= 1000,
  );
  const backAfterCheck = servedAgain !== null && firstGoodCheck !== null ? servedAgain - firstGoodCheck : null;
  if (restart) row(
    label,
    'restarted upstream gets traffic again right after its next successful check',
    `served ≤ 1 s after that check (check due ≤ ${interval} s)`,
    servedAgain === null
      ? `not served again within ${interval + 15} s`
      : `back ${((servedAgain - readyAt) / 1000).toFixed(2)} s after restart; ${backAfterCheck === null ? '?' : backAfterCheck.toFixed(1)} ms after the check`,
    servedAgain === null ? false : backAfterCheck !== null && backAfterCheck <= 1000,
  );
  report[`scenario${id}`] = { interval, concurrency, earlyChecks, requests: results.length, errors, killAt, firstFail, lastFail, stopMs, bursts, u1Checks, readyAt, firstGoodCheck, servedAgain };
}

// ---- scenario 4: an upstream dies mid-stream ---------------------------------------------------
async function scenario4() {
  const streams = 100;
  console.log(`\n## 4. mid-stream death: ${streams} concurrent streams on one upstream, SIGKILL after each got its first event`);
  const up = await upstream({ streamEvents: 200, streamGapMs: 20 });
  const lb = await llmlb({ endpoints: [{ name: 'u1', base_url: up.url }] });
  const agent = createAgent(streams + 8);
  let firsts = 0;
  let allStarted;
  const started = new Promise((resolve) => (allStarted = resolve));
  const requests = Array.from({ length: streams }, () =>
    chat(agent, lb.url, {
      model: 'm',
      stream: true,
      onFirstEvent: () => {
        if (++firsts === streams) allStarted();
      },
    }),
  );
  const t0 = now();
  const gotAll = await Promise.race([started.then(() => true), sleep(10_000).then(() => false)]);
  const killAt = now();
  await killHard(up.child);
  const results = await Promise.race([Promise.all(requests), sleep(20_000).then(() => null)]);
  await agent.close();
  const summary = await ask(lb.child, { type: 'summary' });
  await stopAll();
  if (!results) throw new Error('scenario 4: streams did not end within 20 s of the kill');

  const endings = {};
  for (const r of results) endings[streamEnding(r)] = (endings[streamEnding(r)] ?? 0) + 1;
  const affected = results.filter((r) => streamEnding(r) !== 'done');
  const withError = count(affected, (r) => streamEnding(r) === 'error-event');
  const cleanNoDone = count(affected, (r) => streamEnding(r) === 'clean-close-no-done');
  const endLag = summarize(results.map((r) => r.t1 - killAt));
  const sample = affected.find((r) => streamEnding(r) === 'error-event')?.tail.split('\n\n').filter(Boolean).at(-1);
  console.log(`  ${gotAll ? 'all' : `only ${firsts} of`} ${streams} streams had their first event ${(killAt - t0).toFixed(0)} ms after start; SIGKILL then`);
  console.log(`  endings: ${JSON.stringify(endings)}; llmlb events: ${summary.streamedEvents} streamed, ${summary.streamErrors} with error`);
  console.log(`  stream end after the kill: p50=${ms(endLag.p50)} max=${ms(endLag.max)}`);
  if (sample) console.log(`  last event seen: ${sample.slice(0, 160)}`);
  row('4 mid-stream death', 'affected streams ending with the data: {"error":…} event', '100 %', `${pct(withError, affected.length)} (${withError} of ${affected.length})`, affected.length > 0 && withError === affected.length);
  row('4 mid-stream death', 'affected streams closed cleanly without [DONE] or error', '0 %', `${pct(cleanNoDone, affected.length)} (${cleanNoDone})`, cleanNoDone === 0);
  report.scenario4 = { streams, gotAll, endings, affected: affected.length, withError, cleanNoDone, endLag };
}

// ---- scenario 5: memory and handles after 10 000 faulty requests -------------------------------
const MIX = [
  ['ok', 25],
  ['okstream', 15],
  ['refuse', 10],
  ['e500', 10],
  ['e503', 10],
  ['half', 10],
  ['midsse', 10],
  ['mortal', 10],
];
const MIX_TOTAL = MIX.reduce((n, [, w]) => n + w, 0);
const REQUEST_OF = {
  ok: { model: 'ok' },
  okstream: { model: 'ok', stream: true },
  refuse: { model: 'refuse' },
  e500: { model: 'e500' },
  e503: { model: 'e503' },
  half: { model: 'half' },
  midsse: { model: 'midsse', stream: true },
  mortal: { model: 'mortal', stream: true },
};

function outcomeOf(r) {
  if (r.status === 0) return `no response (${r.bodyError})`;
  if (r.stream && r.status === 200) return `200 stream ${streamEnding(r)}`;
  if (r.bodyError) return `${r.status} body ${r.bodyError}`;
  return `${r.status}`;
}

async function scenario5() {
  const warmup = 2_000;
  const measured = FAULTY;
  console.log(`\n## 5. memory and handles: ${warmup} warm-up + ${measured} mixed faulty requests (c=${CONCURRENCY})`);
  const faults = await upstream({ faults: true, models: ['ok', 'e500', 'e503', 'half', 'midsse'], streamEvents: 10, keepAliveMs: 1_000 });
  const mortalConfig = { models: ['mortal'], streamEvents: 20, streamGapMs: 25, keepAliveMs: 1_000 };
  let mortal = await upstream(mortalConfig);
  const refusePort = await freePort();
  const refuseOrigin = `http://127.0.0.1:${refusePort}`;
  const lb = await llmlb(
    {
      endpoints: [
        { name: 'faults-a', base_url: `${faults.url}/a` },
        { name: 'faults-b', base_url: `${faults.url}/b` },
        { name: 'mortal', base_url: mortal.url },
        { name: 'refuse', base_url: refuseOrigin },
      ],
      interval: 10,
      collect: 'counters',
      synthetic: [{ origin: refuseOrigin, models: ['refuse'] }],
    },
    ['--expose-gc'],
  );

  const random = seededRandom(42);
  const pick = () => {
    let x = random() * MIX_TOTAL;
    for (const [kind, w] of MIX) if ((x -= w) < 0) return kind;
    return 'ok';
  };
  const outcomes = {};
  const onResult = (r) => {
    const key = `${r.kind}: ${outcomeOf(r)}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  };
  let kills = 0;
  const restartMortal = async () => {
    kills++;
    await killHard(mortal.child);
    await sleep(200);
    mortal = await upstream({ ...mortalConfig, port: mortal.port });
  };
  const next = () => {
    const kind = pick();
    return { kind, ...REQUEST_OF[kind] };
  };

  /** Closes the client side, then waits until llmlb's active resources stop changing. */
  const settle = async (agent) => {
    await agent.close();
    const start = now();
    let previous = '';
    let stable = 0;
    let snapshot;
    while (now() - start < 20_000) {
      await sleep(500);
      snapshot = await ask(lb.child, { type: 'handles' });
      const key = JSON.stringify(snapshot.resources);
      stable = key === previous ? stable + 1 : 0;
      previous = key;
      if (stable >= 3 && now() - start >= 3_000) break;
    }
    // RSS: median of 5 readings over 1 s (it moves a little even when idle).
    const readings = [];
    for (let i = 0; i < 5; i++) {
      readings.push(rssKb(lb.pid));
      await sleep(250);
    }
    readings.sort((a, b) => a - b);
    return { ...snapshot, rssKb: readings[2], settleMs: now() - start };
  };
  const mortalKillsAt = (total, times) => new Set(Array.from({ length: times }, (_, i) => Math.floor(((i + 1) * total) / (times + 1))));

  // Warm-up (one mortal kill in it too, so every code path has run before the baseline).
  let agent = createAgent(CONCURRENCY);
  let kill = mortalKillsAt(warmup, 1);
  let pending = [];
  await runLoad({
    agent,
    baseUrl: lb.url,
    concurrency: CONCURRENCY,
    maxRequests: warmup,
    keep: false,
    next: (i) => {
      if (kill.has(i)) pending.push(restartMortal());
      return next();
    },
  });
  await Promise.all(pending);
  const base = await settle(agent);
  for (const key of Object.keys(outcomes)) delete outcomes[key];
  console.log(`  after warm-up: RSS ${(base.rssKb / 1024).toFixed(1)} MB, heap ${(base.memory.heapUsed / 2 ** 20).toFixed(1)} MB, resources ${JSON.stringify(base.resources)}`);

  // Measured run: 10 000 requests, three more mortal kills, RSS sampled every 1000 requests.
  agent = createAgent(CONCURRENCY);
  kill = mortalKillsAt(measured, 3);
  pending = [];
  const samples = [];
  const started = now();
  await runLoad({
    agent,
    baseUrl: lb.url,
    concurrency: CONCURRENCY,
    maxRequests: measured,
    keep: false,
    onResult,
    next: (i) => {
      if (kill.has(i)) pending.push(restartMortal());
      if (i % 1000 === 0) samples.push(Math.round(rssKb(lb.pid) / 1024));
      return next();
    },
  });
  const elapsed = now() - started;
  await Promise.all(pending);
  const end = await settle(agent);
  await stopAll();

  const growth = (end.rssKb - base.rssKb) / base.rssKb;
  const checks = Object.values(end.checkCounts).reduce((a, b) => a + b, 0) - Object.values(base.checkCounts).reduce((a, b) => a + b, 0);
  const types = new Set([...Object.keys(base.resources), ...Object.keys(end.resources)]);
  const above = [...types].filter((t) => (end.resources[t] ?? 0) > (base.resources[t] ?? 0));
  const total = (r) => Object.values(r).reduce((a, b) => a + b, 0);
  console.log(`  ${measured} requests in ${(elapsed / 1000).toFixed(1)} s, mortal upstream SIGKILLed ${kills} times in all`);
  console.log(`  outcomes: ${JSON.stringify(Object.fromEntries(Object.entries(outcomes).sort()))}`);
  console.log(`  RSS every 1000 requests (MB): ${samples.join(' ')}`);
  console.log(`  at the end: RSS ${(end.rssKb / 1024).toFixed(1)} MB, heap ${(end.memory.heapUsed / 2 ** 20).toFixed(1)} MB, resources ${JSON.stringify(end.resources)} (settled in ${(end.settleMs / 1000).toFixed(1)} s)`);
  console.log(`  health checks run during the measured part: ${checks} (memory storage keeps one history row per check)`);
  const heapGrowth = end.memory.heapUsed - base.memory.heapUsed;
  console.log(
    `  heap after GC: ${(base.memory.heapUsed / 2 ** 20).toFixed(1)} → ${(end.memory.heapUsed / 2 ** 20).toFixed(1)} MB (${heapGrowth >= 0 ? '+' : ''}${(heapGrowth / 2 ** 20).toFixed(2)} MB, ${checks > 0 ? `${Math.round(heapGrowth / checks)} B per health check run` : '—'})`,
  );
  row('5 memory/handles', 'llmlb RSS, end vs after warm-up', '≤ +20 %', `${(base.rssKb / 1024).toFixed(1)} → ${(end.rssKb / 1024).toFixed(1)} MB (${growth >= 0 ? '+' : ''}${(100 * growth).toFixed(1)} %)`, growth <= 0.2);
  row(
    '5 memory/handles',
    'active resources back to baseline',
    `≤ baseline (${total(base.resources)})`,
    `${total(end.resources)}${above.length ? `; above baseline: ${above.map((t) => `${t} ${base.resources[t] ?? 0}→${end.resources[t]}`).join(', ')}` : ''}`,
    above.length === 0,
  );
  report.scenario5 = { warmup, measured, elapsed, kills, outcomes, samples, base, end, growth, heapGrowth, checks };
}

// ---- scenario 6 (extra, no target): a single upstream restarts within a fraction of a second --------------
async function scenario6() {
  const concurrency = 4;
  console.log(`\n## 6. (extra) single upstream SIGKILLed and restarted ~0.2 s later, light load (c=${concurrency}, 10 ms pause between requests), default interval (30 s)`);
  const up = await upstream({ delayMs: 5 });
  const lb = await llmlb({ endpoints: [{ name: 'u1', base_url: up.url }] });
  const agent = createAgent(concurrency);
  let killAt = Infinity;
  let readyAt = Infinity;
  let recovered = null;
  const load = runLoad({
    agent,
    baseUrl: lb.url,
    concurrency,
    durationMs: 60_000,
    pauseMs: 10,
    next: () => ({ model: 'm' }),
    onResult: (r) => {
      if (recovered === null && r.t0 > readyAt && r.status === 200) recovered = r.t1;
    },
    stop: () => recovered !== null,
  });
  await sleep(2_000);
  killAt = now();
  await killHard(up.child);
  await sleep(200);
  await upstream({ delayMs: 5, port: up.port });
  readyAt = now();
  const { results } = await load;
  await agent.close();
  await stopAll();
  const bad = results.filter((r) => r.t1 >= killAt && r.status !== 200);
  const byStatus = clientErrors(bad).byStatus;
  const window = bad.length === 0 ? 0 : bad.at(-1).t1 - bad[0].t1;
  console.log(`  upstream down ${(readyAt - killAt).toFixed(0)} ms (kill → restarted and listening)`);
  console.log(`  clients got ${bad.length} errors ${JSON.stringify(byStatus)} over ${(window / 1000).toFixed(1)} s; first 200 again ${recovered === null ? 'never (60 s)' : `${((recovered - readyAt) / 1000).toFixed(1)} s after the upstream was back`}`);
  row('6 restart blip (extra)', 'time clients get errors after a ~0.2 s single-upstream restart', 'none set (≈ downtime would be ideal)', `${(window / 1000).toFixed(1)} s of errors for ${(readyAt - killAt).toFixed(0)} ms of downtime`, null);
  report.scenario6 = { downMs: readyAt - killAt, errors: bad.length, byStatus, windowMs: window, recoveredAfterMs: recovered === null ? null : recovered - readyAt };
}

// ---- main --------------------------------------------------------------------------------------
const SCENARIOS = [
  ['1', scenario1],
  ['2', scenario2],
  ['3', () => scenario3()],
  // The same under light load with the default interval: one in-flight failure, one strike check.
  ['3b', () => scenario3({ id: '3b', interval: 30, concurrency: 1, restart: false })],
  ['4', scenario4],
  ['5', scenario5],
  ['6', scenario6],
];
console.log(`llmlb reliability bench — node ${process.version}, ${new Date().toISOString()}`);
let failed = false;
for (const [id, run] of SCENARIOS) {
  if (!ONLY.has(id)) continue;
  try {
    await run();
  } catch (err) {
    failed = true;
    console.error(`  scenario ${id} failed: ${err?.stack ?? err}`);
    rows.push({ scenario: id, metric: 'scenario ran', target: 'completes', measured: String(err?.message ?? err), pass: false });
  } finally {
    await stopAll();
  }
}

console.log('\n## Summary\n');
console.log('| scenario | metric | target | measured | |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.scenario} | ${r.metric} | ${r.target} | ${r.measured} | ${verdict(r.pass).trim()} |`);
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ rows, report }, null, 2));
clearTimeout(watchdog);
process.exit(failed ? 1 : 0);
