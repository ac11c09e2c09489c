/**
 * The one error type llmlb throws. Every failure that reaches a caller — programmatic or HTTP —
 * is an {@link LlmlbError} with a literal {@link ErrorCode}; the HTTP status comes from a single
 * table ({@link HTTP_STATUS_BY_CODE}).
 */

/** Every public error code, with the HTTP status it maps to. */
export const HTTP_STATUS_BY_CODE = {
  invalid_request: 400,
  validation_error: 400,
  model_not_capable: 400,
  context_length_exceeded: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  model_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  queue_full: 429,
  rate_limited: 429,
  internal_error: 500,
  upstream_error: 502,
  endpoint_offline: 503,
  no_available_endpoint: 503,
  not_ready: 503,
  queue_timeout: 503,
  storage_unavailable: 503,
  upstream_timeout: 504,
} as const;

/** A public error code. */
export type ErrorCode = keyof typeof HTTP_STATUS_BY_CODE;

/** One problem found while validating input: where (`path`) and what (`message`). */
export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. `"name"` or `"models.0.id"`; `""` for the root. */
  path: string;
  message: string;
}

/** Options accepted by the {@link LlmlbError} constructor. */
export interface LlmlbErrorOptions {
  /** Field-level problems, for `validation_error`. */
  details?: ValidationIssue[];
  /** The underlying error, kept for logs; never sent to HTTP clients. */
  cause?: unknown;
  /** For a 429 or 503: seconds to wait before trying again, sent as `Retry-After`. */
  retryAfterSecs?: number;
}

/**
 * The brand every {@link LlmlbError} carries, registered globally so that errors made by another
 * copy of llmlb (the CommonJS build next to the ESM one, or a second installed copy) are
 * recognised too.
 */
const BRAND: unique symbol = Symbol.for('llmlb.error');

/** True when `value` carries the llmlb error brand, whichever copy of llmlb made it. */
function isBranded(value: unknown): value is LlmlbError {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/**
 * An error with a stable, documented `code`. `instanceof LlmlbError` and {@link isLlmlbError}
 * recognise llmlb errors from any copy of the package (ESM or CommonJS build, or a second
 * install), by a brand registered with `Symbol.for('llmlb.error')`.
 *
 * @example
 * try { await router.endpoints.get(id) }
 * catch (err) { if (err instanceof LlmlbError && err.code === 'not_found') … }
 */
export class LlmlbError extends Error {
  override readonly name = 'LlmlbError';
  readonly code: ErrorCode;
  readonly details: ValidationIssue[] | undefined;
  /** Seconds to wait before trying again (sent as `Retry-After`), when the error says. */
  readonly retryAfterSecs: number | undefined;

  constructor(code: ErrorCode, message: string, options: LlmlbErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
    this.retryAfterSecs = options.retryAfterSecs;
  }

  /** `instanceof` by brand for `LlmlbError` itself; ordinary prototype checks for subclasses. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return this === LlmlbError ? isBranded(value) : Function.prototype[Symbol.hasInstance].call(this, value);
  }

  /** The HTTP status for this error's code. */
  get status(): number {
    return HTTP_STATUS_BY_CODE[this.code];
  }
}
Object.defineProperty(LlmlbError.prototype, BRAND, { value: true });

/**
 * True when `value` is an {@link LlmlbError} — from this or any other copy of llmlb —
 * optionally with the given code.
 */
export function isLlmlbError(value: unknown, code?: ErrorCode): value is LlmlbError {
  return isBranded(value) && (code === undefined || value.code === code);
}

/**
 * Normalises anything thrown into an {@link LlmlbError}: llmlb errors pass through, anything else
 * becomes `internal_error` with a generic message (the original is kept as `cause` for logs).
 */
export function toLlmlbError(value: unknown): LlmlbError {
  if (isBranded(value)) return value;
  return new LlmlbError('internal_error', 'internal error', { cause: value });
}

/** `not_found` for an endpoint id. */
export function endpointNotFound(id: string): LlmlbError {
  return new LlmlbError('not_found', `endpoint ${JSON.stringify(id)} not found`);
}
