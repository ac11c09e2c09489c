// Helpers shared by the reliability benchmark driver and its child processes. No dependencies
// beyond Node and undici (a dependency of llmlb).
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { percentile } from '../common.mjs';

export { exitWithParent, percentile, seededRandom } from '../common.mjs';

export const CLIENT_KEY = 'bench-client-key-0123456789';
export const ADMIN_KEY = 'bench-admin-key-0123456789';

/**
 * Wall-clock time in ms with sub-ms resolution. Every process on the machine derives it from the
 * same system clock, so values from the driver and from the children can be compared.
 */
export const now = () => performance.timeOrigin + performance.now();

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `{ n, p50, p90, p99, max }` of a list of numbers. */
export function summarize(values) {
  const sorted = Float64Array.from(values).sort();
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? NaN : sorted[sorted.length - 1],
  };
}

/** VmRSS of a process, in kB (NaN when it is gone). */
export function rssKb(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}


const HERE = fileURLToPath(new URL('.', import.meta.url));

/**
 * Forks `bench/reliability/<script>` with `config` (JSON in argv) and waits (bounded) for its
 * `ready` message. Resolves `{ child, pid, ...ready }`.
 */
export function spawnChild(script, config, { execArgv = [], timeoutMs = 15_000 } = {}) {
  const child = fork(`${HERE}${script}`, [JSON.stringify(config)], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited before ready (code ${code}, signal ${signal})`));
    });
    child.on('message', function onReady(msg) {
      if (msg?.type !== 'ready') return;
      clearTimeout(timer);
      child.off('message', onReady);
      child.removeAllListeners('exit');
      resolve({ child, ...msg });
    });
  });
}

/** Sends `msg` to a child and waits (bounded) for its answer of type `reply` (default: same type). */
export function ask(child, msg, { reply = msg.type, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`no ${reply} answer within ${timeoutMs} ms`));
    }, timeoutMs);
    function onMessage(answer) {
      if (answer?.type !== reply) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(answer);
    }
    child.on('message', onMessage);
    child.send(msg);
  });
}

/** SIGKILLs a child we started and waits (bounded) until it is gone. */
export async function killHard(child, timeoutMs = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await Promise.race([gone, sleep(timeoutMs)]);
}

/** Asks a child to stop, then SIGKILLs it if it is still there after a moment. */
export async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  try {
    child.send({ type: 'shutdown' });
  } catch {
    // IPC already closed
  }
  await Promise.race([gone, sleep(2_000)]);
  await killHard(child);
}

export const ms = (v) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : '—');
