/**
 * The standalone server's logger: pino, writing JSON lines to stdout through an asynchronous
 * destination (sonic-boom), with credentials redacted by pino's own redaction. Lines keep
 * pino's shape: `{"level":30,"time":…,"msg":…,…fields}`.
 */
import { pino } from 'pino';
import type { Logger } from '../logger.js';

/**
 * Level names, lowest first.
 *
 * @example
 * LOG_LEVELS.includes('warn'); // true
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/**
 * A log level name.
 *
 * @example
 * const level: LogLevel = 'debug';
 */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where lines go: the process's stdout (asynchronously, by file descriptor) or any writer. */
export interface LogSink {
  write(chunk: string): unknown;
}

/**
 * Field paths whose values are replaced by `[Redacted]`: credentials never reach a log line,
 * whoever passes them. Paths are explicit (no wildcards), which keeps redaction off the cost of
 * the request log.
 */
const SECRET_FIELDS = ['authorization', 'api_key', 'apiKey', 'api_key_encrypted', 'key', 'keys', 'secret', 'password', 'token', 'cookie'];
const REDACT_PATHS = [...SECRET_FIELDS, 'headers.authorization', 'req.headers.authorization', 'headers.cookie', 'err.config.headers.authorization'];

/** How often buffered lines are written out at the latest, in ms. */
const FLUSH_MS = 200;

/**
 * File descriptor 1 through sonic-boom, asynchronously, in writes of at least 8 KiB: at line
 * rate, one system call carries many lines. A timer writes out what waits at least every
 * {@link FLUSH_MS}, so a quiet server's lines still appear at once.
 */
function stdoutDestination(): ReturnType<typeof pino.destination> {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 8 * 1024 });
  setInterval(() => destination.flush(), FLUSH_MS).unref();
  return destination;
}

/** A CLI logger and the way to flush what it buffered. */
export interface CliLogger {
  logger: Logger;
  /** Whether `info` lines are written (the request log costs nothing otherwise). */
  info: boolean;
  /** Writes out buffered lines now (on stop). */
  flush(): void;
}

/**
 * Creates the CLI's logger. With `process.stdout` as the sink, lines go to file descriptor 1
 * through an asynchronous buffer (written within 200 ms); any other sink (tests) gets each line
 * as it is made.
 *
 * @example
 * const { logger, flush } = createCliLogger('info', process.stdout);
 * logger.info({ endpoint_id: 'e1' }, 'endpoint online');
 * flush();
 */
export function createCliLogger(level: LogLevel, sink: LogSink): CliLogger {
  const destination = sink === process.stdout ? stdoutDestination() : { write: (line: string) => void sink.write(line) };
  const logger = pino(
    {
      level,
      base: null,
      redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
  return {
    logger,
    info: logger.isLevelEnabled('info'),
    flush: () => {
      if ('flushSync' in destination) {
        try {
          destination.flushSync();
        } catch {
          // Nothing buffered, or stdout already closed.
        }
      }
    },
  };
}
