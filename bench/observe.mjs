// Cost of observability on the hot path: the built CLI (`dist/cli.js serve`) in four set-ups —
// nothing (log level warn, metrics off), metrics on, the info-level request log on (pino, async,
// to a file), both — each proxying non-streaming chat completions to the bench upstream, driven
// by autocannon at c=32 in interleaved slices so that noise from elsewhere hits all alike. Reports
// requests per second and the server process's CPU time per request (/proc/<pid>/stat).
//
//   node bench/observe.mjs [--duration N] [--rounds N] [--stream] [--json FILE]
//
// --duration N  seconds per slice (default 5); --rounds N slices per set-up (default 4);
// --stream      streaming requests (20 events each) instead of non-streaming ones.
// --setups 0,2  only these set-ups (by index; the first one listed is the baseline).
// --pin         pin this process and the upstream to CPU 0, the llmlb servers to CPU 1 (taskset):
//               each server then has one core to itself, and req/s measures its cost directly.
// Everything talks to 127.0.0.1; children exit with this process; the run is bounded in time.
import autocannon from 'autocannon';
import { execFileSync, fork, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clockTicks, cpuMicros, mean, parseArgs } from './common.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const args = parseArgs(process.argv.slice(2));
const DURATION = Math.max(1, Number(args.duration ?? 5));
const ROUNDS = Math.max(1, Number(args.rounds ?? 4));
const STREAM = Boolean(args.stream);
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
const CLIENT_KEY = 'bench-client-key-0123456789abcdef';
const MODEL = 'bench-model';
const BODY = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16, ...(STREAM ? { stream: true } : {}) });
const ALL_SETUPS = [
  { name: 'baseline (warn, no metrics)', flags: ['--log-level', 'warn', '--metrics-path', 'off'] },
  { name: 'metrics', flags: ['--log-level', 'warn'] },
  { name: 'request log (info)', flags: ['--log-level', 'info', '--metrics-path', 'off'] },
  { name: 'metrics + request log', flags: ['--log-level', 'info'] },
];
const SETUPS = args.setups ? String(args.setups).split(',').map((i) => ALL_SETUPS[Number(i)]) : ALL_SETUPS;
const LIMIT_MS = (SETUPS.length * ROUNDS * (DURATION + 2) + 120) * 1000;
const children = [];
const work = mkdtempSync(join(tmpdir(), 'llmlb-bench-observe-'));
const stop = (code) => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
  process.exit(code);
};
setTimeout(() => (console.error('bench/observe.mjs: time limit reached'), stop(2)), LIMIT_MS).unref();
process.on('SIGINT', () => stop(130));

function pin(pid, cpu) {
  if (args.pin) execFileSync('taskset', ['-pc', String(cpu), String(pid)], { stdio: 'ignore' });
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function startUpstream() {
  return new Promise((resolve, reject) => {
    const child = fork(here('./upstream.mjs'), ['--max-ms', String(LIMIT_MS)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    child.once('exit', (code) => reject(new Error(`upstream exited (${code})`)));
    pin(child.pid, 0);
    child.on('message', (msg) => msg?.type === 'ready' && resolve(`http://127.0.0.1:${msg.port}`));
  });
}

async function until(check, what) {
  const deadline = Date.now() + 20_000;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 20 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the CLI with `flags`, its log going to a file; registers the upstream; resolves once it routes. */
async function startCli(setup, index, upstreamUrl) {
  const port = await freePort();
  const logFile = join(work, `cli-${index}.log`);
  const out = openSync(logFile, 'w');
  const env = { ...process.env, LLMLB_API_KEYS: `${ADMIN_KEY}:admin,${CLIENT_KEY}:client` };
  const child = spawn(process.execPath, [here('../dist/cli.js'), 'serve', '--memory', '--port', String(port), ...setup.flags], { env, stdio: ['ignore', out, 'inherit'] });
  closeSync(out);
  children.push(child);
  pin(child.pid, 1);
  const url = `http://127.0.0.1:${port}`;
  const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
  await until(async () => (await fetch(`${url}/readyz`)).ok, `${setup.name} ready`);
  await fetch(`${url}/v0/endpoints`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'bench-upstream', base_url: upstreamUrl }) });
  await until(async () => (await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } }).then((r) => r.json())).data?.[0]?.available === true, `${setup.name} routing`);
  return { ...setup, url, logFile, pid: child.pid, rates: [], cpu: [] };
}

function load(url, duration) {
  return new Promise((resolve, reject) => {
    autocannon(
      { url: `${url}/v1/chat/completions`, method: 'POST', connections: 32, duration, body: BODY, headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` } },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}

const TICKS = clockTicks();
pin(process.pid, 0);
const upstreamUrl = await startUpstream();
const targets = [];
for (const [i, setup] of SETUPS.entries()) targets.push(await startCli(setup, i, upstreamUrl));
for (const target of targets) await load(target.url, 2); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (const target of targets) {
    const cpuBefore = cpuMicros(target.pid, TICKS);
    const result = await load(target.url, DURATION);
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${target.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    target.rates.push(result.requests.average);
    target.cpu.push((cpuMicros(target.pid, TICKS) - cpuBefore) / result.requests.total);
  }
}

// Throughput on a shared 2-core machine wanders with other load; the server's CPU per request
// does not, and the throughput a saturated server reaches is inversely proportional to it.
const base = mean(targets[0].rates);
const baseCpu = mean(targets[0].cpu);
const rows = targets.map((t) => ({
  setup: t.name,
  'req/s': Math.round(mean(t.rates)),
  'of baseline': `${((mean(t.rates) / base) * 100).toFixed(1)} %`,
  'CPU µs/req': Math.round(mean(t.cpu)),
  'CPU-bound throughput': `${((baseCpu / mean(t.cpu)) * 100).toFixed(1)} %`,
  'log lines': readFileSync(t.logFile, 'utf8').split('\n').filter((l) => l.includes('"msg":"request"')).length,
  'log bytes': statSync(t.logFile).size,
}));
console.log(`\n${STREAM ? 'streaming (20 events)' : 'non-streaming'} chat, c=32, ${ROUNDS} × ${DURATION} s per set-up`);
console.table(rows);
if (args.json) writeFileSync(args.json, JSON.stringify({ stream: STREAM, duration: DURATION, rounds: ROUNDS, rows }, null, 2));
stop(0);
