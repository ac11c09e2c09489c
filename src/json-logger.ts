/**
 * A tiny JSON-lines {@link Logger} in pino's shape — `{"level":30,"time":…,"msg":…,…fields}` with
 * pino's numeric levels — for the standalone server. No dependency: pino itself works just as
 * well when embedding llmlb. `Error` values become `{type, message, code}` (plus `stack` at level
 * debug), fields whose names say they hold credentials are redacted, and the logger never throws.
 */
import type { LogFn, Logger } from './logger.js';

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

/**
 * pino's numeric value of each level, as written in the `level` field.
 *
 * @example
 * LOG_LEVEL_VALUES.warn; // 40
 */
export const LOG_LEVEL_VALUES: Readonly<Record<LogLevel, number>> = Object.freeze({
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
});

/**
 * Options of {@link createJsonLogger}.
 *
 * @example
 * const options: JsonLoggerOptions = { level: 'warn', write: (line) => process.stderr.write(line) };
 */
export interface JsonLoggerOptions {
  /** Lowest level written (default `info`). At `debug`, serialised errors carry their stack. */
  level?: LogLevel;
  /** Receives each line, newline included (default: `process.stdout.write`). */
  write?: (line: string) => void;
  /** Clock for the `time` field, in ms since the epoch (default `Date.now`). */
  now?: () => number;
  /** Fields added to every line, e.g. `{ name: 'llmlb' }`. */
  bindings?: Readonly<Record<string, unknown>>;
}

/** Field names whose values are replaced by {@link REDACTED}, whatever their case. */
const SECRET_FIELD = /^(authorization|proxy-authorization|cookie|set-cookie|api[-_]?keys?|api_key_encrypted|secret|password|passphrase|token|access_token|refresh_token|keys?)$/i;
/** What a redacted value is replaced with (pino's default censor). */
const REDACTED = '[Redacted]';
const MAX_DEPTH = 8;
const RESERVED = new Set(['level', 'time', 'msg']);

const noop = (): void => {};

interface SerialiseContext {
  readonly withStack: boolean;
  readonly seen: WeakSet<object>;
}

/** Turns an Error into pino's `{type, message, code}` shape (stack at debug, causes followed). */
function serialiseError(err: Error, ctx: SerialiseContext, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: err.constructor?.name && err.constructor.name !== 'Object' ? err.constructor.name : err.name,
    message: err.message,
  };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (ctx.withStack && typeof err.stack === 'string') out.stack = err.stack;
  if (err.cause !== undefined && depth < MAX_DEPTH) out.cause = serialise(err.cause, ctx, depth + 1);
  return out;
}

/** A JSON-safe copy of `value`: errors serialised, cycles cut, credentials redacted. */
function serialise(value: unknown, ctx: SerialiseContext, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  const object = value as object;
  if (object instanceof Error) {
    if (ctx.seen.has(object)) return '[Circular]';
    ctx.seen.add(object);
    const out = serialiseError(object, ctx, depth);
    ctx.seen.delete(object);
    return out;
  }
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? null : object.toISOString();
  if (ArrayBuffer.isView(object)) return `[${object.constructor.name} ${object.byteLength} bytes]`;
  if (depth >= MAX_DEPTH) return '[Object]';
  if (ctx.seen.has(object)) return '[Circular]';
  ctx.seen.add(object);
  try {
    if (Array.isArray(object)) return object.map((item) => serialise(item, ctx, depth + 1) ?? null);
    const toJSON = (object as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return serialise(toJSON.call(object), ctx, depth + 1);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(object)) {
      const safe = SECRET_FIELD.test(key) ? REDACTED : serialise(item, ctx, depth + 1);
      if (safe !== undefined) out[key] = safe;
    }
    return out;
  } finally {
    ctx.seen.delete(object);
  }
}

/**
 * Creates a logger that writes one JSON object per line, in pino's format, for every call at or
 * above `level`. Calls below the level are no-ops; the logger never throws.
 *
 * @example
 * const logger = createJsonLogger({ level: 'debug', write: (line) => process.stdout.write(line) });
 * logger.info({ endpoint_id: 'e1' }, 'endpoint online');
 * // {"level":30,"time":1730000000000,"msg":"endpoint online","endpoint_id":"e1"}
 * createRouter({ logger });
 */
export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const threshold = LOG_LEVEL_VALUES[level];
  if (threshold === undefined) throw new TypeError(`unknown log level: ${String(level)}`);
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const now = options.now ?? Date.now;
  const withStack = level === 'debug';
  const bindings = options.bindings ?? {};

  const emit = (value: number, first: unknown, second: unknown): void => {
    try {
      let fields: Record<string, unknown> = {};
      let msg: unknown;
      if (typeof first === 'string') {
        msg = first;
      } else if (first instanceof Error) {
        fields = { err: first };
        msg = typeof second === 'string' ? second : first.message;
      } else if (typeof first === 'object' && first !== null) {
        fields = first as Record<string, unknown>;
        msg = typeof second === 'string' ? second : fields.msg;
      }
      const record: Record<string, unknown> = { level: value, time: now() };
      if (typeof msg === 'string') record.msg = msg;
      const ctx: SerialiseContext = { withStack, seen: new WeakSet() };
      for (const source of [bindings, fields]) {
        for (const [key, item] of Object.entries(source)) {
          if (RESERVED.has(key)) continue;
          const safe = SECRET_FIELD.test(key) ? REDACTED : serialise(item, ctx, 1);
          if (safe !== undefined) record[key] = safe;
        }
      }
      write(`${JSON.stringify(record)}\n`);
    } catch {
      // A logger must never take the process down.
    }
  };

  const method = (name: LogLevel): LogFn => {
    const value = LOG_LEVEL_VALUES[name];
    if (value < threshold) return noop;
    return ((first: unknown, second?: unknown) => emit(value, first, second)) as LogFn;
  };

  return Object.freeze({
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
  });
}
