/** The logger interface llmlb writes to. Library code never touches the console. */

/** One log method, pino-style: `log(obj, msg)` or `log(msg)`. */
export interface LogFn {
  (obj: Record<string, unknown>, msg?: string): void;
  (msg: string): void;
}

/**
 * A pino-compatible logger. Pass `pino()` itself, or any object with these four methods.
 *
 * @example
 * createRouter({ logger: pino({ level: 'info' }) });
 */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const noop = (): void => {};

/** A logger that drops everything: the default. */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });
