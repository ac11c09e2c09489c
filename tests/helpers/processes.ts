/**
 * Built code run as users run it: `node <script> …` as a real child process (the `llmlb` CLI in
 * `dist/cli.js`, built once by the vitest global setup, or a file in examples/), with its output
 * captured, waited on line by line, and stopped with a signal.
 *
 * Every process started here is remembered; call {@link killStrays} in `afterEach` (or
 * `afterAll`) so that no test leaves one behind, whatever it did.
 *
 * @example
 * afterEach(killStrays);
 * const server = await spawnServer([CLI, 'serve', '--port', '0', '--memory'], { env: { LLMLB_ADMIN_KEY: KEY } });
 * await fetch(`${server.url}/v0/endpoints`, { headers: { authorization: `Bearer ${KEY}` } });
 * expect(await stopChild(server.child)).toEqual({ code: 0, signal: null });
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { basename, join } from 'node:path';

/** The package root. */
export const ROOT = join(import.meta.dirname, '..', '..');
/** The built CLI, `llmlb` as installed. */
export const CLI = join(ROOT, 'dist', 'cli.js');
/** The line `llmlb serve` prints once it accepts connections; group 1 is its base URL. */
export const CLI_LISTENING = /^llmlb listening on (http:\/\/127\.0\.0\.1:\d+)$/m;

/** How a process ended: its exit code, or the signal that killed it. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** Variables set for the process, on top of {@link cleanEnv}. */
  env?: Record<string, string>;
  /** Inherited variables to remove besides every `LLMLB_*` one. */
  unset?: Iterable<string>;
  /** The working directory; the test runner's by default. */
  cwd?: string;
}

export interface NodeProcess {
  child: ChildProcess;
  /** Everything the process wrote to stdout so far. */
  stdout(): string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Both streams so far, labelled: for failure messages. */
  output(): string;
  /**
   * Resolves with the first match of `pattern` in `stream` (stdout by default), looking at what
   * was written before the call too; rejects, with the output so far, when the process exits
   * without it or after `timeoutMs`.
   */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr', timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Settles once the process has exited and both streams are closed (all output is in). */
  exited: Promise<ChildExit>;
}

export interface ServerProcess extends NodeProcess {
  /** The base URL from the listening line, e.g. `http://127.0.0.1:41234`. */
  url: string;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const running = new Set<ChildProcess>();
const exits = new WeakMap<ChildProcess, Promise<ChildExit>>();

/**
 * The test runner's environment without any `LLMLB_*` variable (nor those named in `unset`),
 * so the developer's shell cannot leak into a child, plus `extra`.
 */
export function cleanEnv(extra: Record<string, string> = {}, unset: Iterable<string> = []): NodeJS.ProcessEnv {
  const drop = new Set(unset);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('LLMLB_') && !drop.has(name)) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Starts `node ...args` (the script first) with stdin closed and both output streams captured. */
export function spawnNode(args: string[], options: SpawnOptions = {}): NodeProcess {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: cleanEnv(options.env, options.unset),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const label = [basename(args[0] ?? 'node'), ...args.slice(1)].join(' ');
  const text = { stdout: '', stderr: '' };
  const output = () => `--- stdout ---\n${text.stdout}\n--- stderr ---\n${text.stderr}`;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => ((text.stdout += chunk), notify()));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => ((text.stderr += chunk), notify()));
  let hasExited = false;
  const exited = new Promise<ChildExit>((resolve) =>
    child.once('close', (code, signal) => {
      hasExited = true;
      running.delete(child);
      notify();
      resolve({ code, signal });
    }),
  );
  exits.set(child, exited);

  const waitFor = (pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout', timeoutMs = DEFAULT_TIMEOUT_MS) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const done = (error?: Error, found?: RegExpMatchArray) => {
        listeners.delete(check);
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(found!);
      };
      const check = () => {
        const found = text[stream].match(pattern);
        if (found) return done(undefined, found);
        if (hasExited) done(new Error(`${label} exited before ${pattern} appeared on ${stream}:\n${output()}`));
      };
      const timer = setTimeout(
        () => done(new Error(`timed out waiting for ${pattern} on ${stream} of ${label}:\n${output()}`)),
        timeoutMs,
      );
      listeners.add(check);
      check();
    });

  return { child, stdout: () => text.stdout, stderr: () => text.stderr, output, waitFor, exited };
}

/**
 * Starts `node ...args` and resolves once it printed its listening line (`pattern`, whose group
 * 1 is the base URL; {@link CLI_LISTENING} by default) on stdout. Rejects with the captured
 * output when the process exits first or the line takes longer than `timeoutMs`, and then kills
 * the process.
 */
export async function spawnServer(
  args: string[],
  options: SpawnOptions & { pattern?: RegExp; timeoutMs?: number } = {},
): Promise<ServerProcess> {
  const { pattern = CLI_LISTENING, timeoutMs, ...spawnOptions } = options;
  const proc = spawnNode(args, spawnOptions);
  try {
    const found = await proc.waitFor(pattern, 'stdout', timeoutMs);
    const url = found[1];
    if (url === undefined) throw new Error(`${pattern} has no group for the URL`);
    return { ...proc, url };
  } catch (error) {
    proc.child.kill('SIGKILL');
    throw error;
  }
}

/**
 * Sends `signal` to `child` unless it has already exited, and resolves with how it ended (for a
 * process from {@link spawnNode}: once all its output is in).
 */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<ChildExit> {
  const exited =
    exits.get(child) ??
    (child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
      : new Promise<ChildExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))));
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  return exited;
}

/** SIGKILLs every process started by {@link spawnNode} that is still running. */
export function killStrays(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
}
