// Helpers shared by the benchmark child processes and the driver (no dependencies).
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Arguments of the form `--name value` (or bare `--flag`) as an object. */
export function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) continue;
    const name = arg.slice(2);
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      out[name] = next;
      i++;
    } else out[name] = true;
  }
  return out;
}

/**
 * Makes a child process stop by itself: when its parent goes away (IPC disconnect), on a
 * `shutdown` message, and in any case after `maxMs`. Answers `memory` messages with its memory
 * usage and the number of requests `server` has received.
 */
export function exitWithParent(maxMs, onExit = () => {}, server = undefined) {
  let requests = 0;
  server?.on('request', () => requests++);
  const bye = (code) => {
    try {
      onExit();
    } finally {
      process.exit(code);
    }
  };
  process.on('disconnect', () => bye(0));
  process.on('message', (msg) => {
    if (msg && msg.type === 'shutdown') bye(0);
    if (msg && msg.type === 'memory') {
      const before = process.memoryUsage();
      // With --expose-gc, also report the live heap after a full collection (leak check).
      let liveHeap = null;
      if (msg.gc && typeof globalThis.gc === 'function') {
        globalThis.gc();
        liveHeap = process.memoryUsage().heapUsed;
      }
      process.send({ type: 'memory', requests, ...before, liveHeap });
    }
  });
  setTimeout(() => bye(3), maxMs).unref();
}

/** Clock ticks per second for /proc/<pid>/stat. */
export function clockTicks() {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** CPU time used so far by a process, in microseconds: `{ user, sys }`. */
export function cpuSplit(pid, ticks) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) " the first field is #3 (state); utime is #14, stime #15.
  return { user: (Number(fields[14 - 3]) * 1e6) / ticks, sys: (Number(fields[15 - 3]) * 1e6) / ticks };
}

/** CPU time (user + system) used so far by a process, in microseconds. */
export function cpuMicros(pid, ticks) {
  const { user, sys } = cpuSplit(pid, ticks);
  return user + sys;
}

/** Resident set size of a process, in bytes. */
export function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Percentile (0..100) of a numeric array (sorted in place). Nearest-rank. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function sortNumbers(values) {
  return Float64Array.from(values).sort();
}

export function mean(values) {
  let sum = 0;
  for (const v of values) sum += v;
  return values.length === 0 ? NaN : sum / values.length;
}

/** CPU time (all CPUs, not idle/iowait) used by the whole machine so far, in microseconds. */
export function systemBusyMicros(ticks) {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user + nice + system + irq + softirq + (steal || 0)) * 1e6) / ticks;
}

/** Proportional and private memory of a process from /proc/<pid>/smaps_rollup, in bytes. */
export function pssBytes(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
    return { pss: kb('Pss'), privateDirty: kb('Private_Dirty'), sharedClean: kb('Shared_Clean') };
  } catch {
    return { pss: NaN, privateDirty: NaN, sharedClean: NaN };
  }
}

/** Mulberry32: a small seeded PRNG, so runs are reproducible. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Bounds a benchmark driver: past `limitMs`, and on Ctrl-C, every child in `children` (a Set or
 * array, read when it fires) is SIGKILLed and the process exits (code 2, or 130). Returns
 * `{ done, kill }`: `done()` disarms the time limit, `kill(code, message?)` does the same cleanup
 * at once (e.g. after an error).
 */
export function guardRun(children, limitMs, label) {
  const kill = (code, message) => {
    if (message) console.error(message);
    for (const child of children) child.kill('SIGKILL');
    process.exit(code);
  };
  const timer = setTimeout(() => kill(2, `${label} exceeded ${limitMs / 60_000} min: stopping`), limitMs);
  timer.unref();
  process.on('SIGINT', () => kill(130));
  return { done: () => clearTimeout(timer), kill };
}

/** Default readiness for {@link waitOnline}: online, with at least one model synced. */
const onlineWithModels = (endpoint) => endpoint.status === 'online' && endpoint.model_count > 0;

/**
 * Polls `router.endpoints.list()` (public API) every `pollMs` until it holds `count` endpoints and
 * every one passes `ready` (default: online with at least one model); returns that list. Bounded:
 * throws after `timeoutMs`, naming up to 5 endpoints that were not ready.
 */
export async function waitOnline(router, count, { timeoutMs = 15_000, pollMs = 20, ready = onlineWithModels } = {}) {
  const deadline = Date.now() + timeoutMs;
  let pending = [];
  let listed = 0;
  for (let i = 0; i < 100_000; i++) {
    const { endpoints } = await router.endpoints.list();
    listed = endpoints.length;
    pending = endpoints.filter((e) => !ready(e));
    if (endpoints.length === count && pending.length === 0) return endpoints;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  const names = pending.slice(0, 5).map((e) => `${e.name} (${e.status}, ${e.model_count} models)`);
  throw new Error(`endpoints not online with their models after ${timeoutMs / 1000} s: ${listed} of ${count} listed, ${pending.length} pending; ${names.join(', ')}`);
}
