/**
 * The `llmlb` command: dispatches help / version / serve / agent, prints usage errors, and turns
 * SIGINT / SIGTERM into a graceful stop (a second signal forces exit 1). Returns the exit code instead of
 * exiting, so tests can drive it; `src/cli.ts` is the thin process entry.
 */
import { NodeAgent } from './agent.js';
import type { AgentConfig } from './agent-config.js';
import { CliUsageError, type CliEnv, USAGE, parseCliConfig } from './config.js';
import { readGpus } from './gpu.js';
import { createCliLogger } from './log.js';
import { type ServeHandle, type ServeIO, runServe } from './serve.js';
import { readPackageVersion } from './version.js';

/** The signals that stop the server. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];

/**
 * Where stop signals come from: `process`, or an `EventEmitter` in tests.
 *
 * @example
 * const signals: SignalSource = process;
 */
export interface SignalSource {
  on(event: StopSignal, listener: (signal: StopSignal) => void): unknown;
  off(event: StopSignal, listener: (signal: StopSignal) => void): unknown;
}

/**
 * What {@link runCli} needs from its process.
 *
 * @example
 * const options: RunCliOptions = { stdout: process.stdout, stderr: process.stderr, signals: process, forceExit: process.exit };
 */
export interface RunCliOptions extends ServeIO {
  /** Source of SIGINT/SIGTERM (default `process`). */
  readonly signals?: SignalSource;
  /** Called on a second stop signal, while the graceful stop still runs (default `process.exit`). */
  readonly forceExit?: (code: number) => void;
  /** Called once the server listens (tests use it to reach the handle). */
  readonly onListening?: (handle: ServeHandle) => void;
}

const HINT = "Run 'llmlb --help' for usage.\n";

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs the `llmlb` command line and resolves with the process exit code: 0 on success (and after a
 * graceful stop), 1 when the server cannot start or stop cleanly, 2 on usage errors.
 *
 * @example
 * const code = await runCli(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr });
 * process.exitCode = code;
 */
export async function runCli(argv: readonly string[], env: CliEnv, options: RunCliOptions): Promise<number> {
  const { stdout, stderr } = options;
  let parsed;
  try {
    parsed = parseCliConfig(argv, env);
  } catch (err) {
    if (!(err instanceof CliUsageError)) throw err;
    stderr.write(`llmlb: ${err.message}\n`);
    stderr.write(err.showUsage ? `\n${USAGE}` : HINT);
    return err.exitCode;
  }

  switch (parsed.command) {
    case 'help':
      stdout.write(USAGE);
      return 0;
    case 'version':
      stdout.write(`${readPackageVersion()}\n`);
      return 0;
    case 'serve':
      return serve(parsed.config, options);
    case 'agent':
      return agent(parsed.config, options);
  }
}

/** The first stop signal (a second forces exit 1), and a way to stop listening. */
interface StopRequest {
  /** Settles with the first signal. */
  requested: Promise<StopSignal>;
  dispose(): void;
}

function listenForStop(options: RunCliOptions): StopRequest {
  const signals = options.signals ?? process;
  const forceExit = options.forceExit ?? ((code: number) => process.exit(code));
  let signalled: StopSignal | undefined;
  let wake: ((signal: StopSignal) => void) | undefined;
  const requested = new Promise<StopSignal>((resolveStop) => (wake = resolveStop));
  const onSignal = (signal: StopSignal) => {
    if (signalled !== undefined) {
      options.stderr.write(`llmlb: ${signal} again: exiting without waiting for in-flight requests\n`);
      forceExit(1);
      return;
    }
    signalled = signal;
    wake?.(signal);
  };
  for (const signal of STOP_SIGNALS) signals.on(signal, onSignal);
  return { requested, dispose: () => STOP_SIGNALS.forEach((signal) => signals.off(signal, onSignal)) };
}

/** `llmlb agent`: runs the node agent until a stop signal. */
async function agent(config: AgentConfig, options: RunCliOptions): Promise<number> {
  const stop = listenForStop(options);
  const log = createCliLogger(config.logLevel, options.stdout);
  const abort = new AbortController();
  void stop.requested.then((signal) => {
    log.logger.info({ signal }, 'stop signal received');
    abort.abort();
  });
  try {
    await new NodeAgent(config, { logger: log.logger, gpus: () => readGpus(config.nvidiaSmi) }).run(abort.signal);
    return 0;
  } finally {
    stop.dispose();
    log.flush();
  }
}

async function serve(config: Parameters<typeof runServe>[0], options: RunCliOptions): Promise<number> {
  const stop = listenForStop(options);
  try {
    let handle: ServeHandle;
    try {
      handle = await runServe(config, options);
    } catch (err) {
      options.stderr.write(`llmlb: ${messageOf(err)}\n`);
      return 1;
    }
    options.onListening?.(handle);
    const signal = await stop.requested;
    handle.logger.info({ signal }, 'stop signal received');
    try {
      await handle.stop();
      return 0;
    } catch (err) {
      handle.logger.error({ err }, 'stop failed');
      options.stderr.write(`llmlb: stop failed: ${messageOf(err)}\n`);
      return 1;
    }
  } finally {
    stop.dispose();
  }
}
