/**
 * Relaying one attempt: the undici dispatch handler that writes an endpoint's answer into the
 * client's response as it arrives, and the failures that let the proxy try another endpoint.
 */
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Clock } from '../clock.js';
import { type ErrorCode, LlmlbError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EndpointRecord } from '../schema.js';
import { clientResponseHeaders } from './headers.js';
import type { InferenceRouteSpec } from './inference-routes.js';
import type { EndpointStats } from './stats.js';
import { BodyTail } from './usage.js';

/**
 * A failure of one attempt, before any byte reached the client: another endpoint may be tried.
 * `strike` is false for an answer that says the endpoint does not serve the route (not a fault).
 */
export class AttemptFailure extends Error {
  constructor(
    readonly code: 'upstream_error' | 'upstream_timeout',
    message: string,
    readonly strike = true,
  ) {
    super(message);
  }

  /** The error for the client once no attempt is left. */
  toError(attempts: number): LlmlbError {
    return new LlmlbError(this.code, `${this.message} (after ${attempts} attempt${attempts === 1 ? '' : 's'})`);
  }
}

/** Why an attempt was aborted because the client went away. */
export class ClientGone extends Error {}

/** How one attempt ended, once the response was relayed. */
export interface AttemptOutcome {
  status: number;
  /** Time to the upstream's response headers, in ms. */
  ttfb: number;
  streamed: boolean;
  /** Set when the response broke after its first byte. */
  error: ErrorCode | null;
  /** The end of the body, where the upstream's `usage` is read from. */
  tail: BodyTail;
}

/** What every relay shares with the proxy. */
export interface RelayContext {
  stats: EndpointStats;
  clock: Clock;
  logger: Logger;
  /** Marks an endpoint that failed mid-response as failing. */
  strike: (endpoint: EndpointRecord) => void;
  /** Frees the attempt's slot on the endpoint (queued requests may take it). */
  release: (endpointId: string) => void;
}

/** What one attempt reports besides the upstream's answer. */
export interface AttemptTag {
  model: string;
  /** The route: its error shape, and the statuses after which another endpoint is tried. */
  route: InferenceRouteSpec;
  /** Why the endpoint was chosen (`x-llmlb-route`). */
  reason: string;
  /** Time the request waited for a slot (`x-llmlb-queue-ms`). */
  queueMs: number;
  /** Requests already in flight to the endpoint when this one was sent. */
  inFlightAtStart: number;
  /** Monotonic ms when its slot was claimed (what `stats.started` was told). */
  claimedAt: number;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);
const RETRYABLE_STATUS = new Set([502, 503]);

/**
 * The undici handler of one attempt: writes the upstream's status, headers and body chunks to
 * the client as they arrive, with backpressure — no intermediate stream, no per-request abort
 * signal. Before the first byte, failures reject the attempt (so the proxy can fail over);
 * after it, a broken SSE stream ends with an error event and any other response is cut.
 *
 * @example
 * const relay = new Relay(res, endpoint, 120_000, true, clock.monotonic(), ctx, resolve, reject);
 * dispatcher.dispatch({ origin, path, method: 'POST', headers, body }, relay);
 */
export class Relay implements Dispatcher.DispatchHandler {
  #controller: Dispatcher.DispatchController | undefined;
  #abortReason: Error | undefined;
  #relaying = false;
  /** True once a body chunk or the end went to the client: the headers went with it. */
  #bodySent = false;
  #settled = false;
  #status = 0;
  #ttfb = 0;
  #streamed = false;
  /** Monotonic ms of the first body chunk, and how many chunks came. */
  #firstChunkAt = 0;
  #chunks = 0;
  /** True once the endpoint no longer counts this request as awaiting its first byte. */
  #answered = false;
  readonly #tail = new BodyTail();
  readonly #onDrain = (): void => this.#controller?.resume();
  /** Sends an event stream's headers on their own when no event came along with them. */
  readonly #flush = (): void => {
    if (!this.#bodySent && !this.res.writableEnded && !this.res.destroyed) this.res.flushHeaders();
  };

  constructor(
    readonly res: ServerResponse,
    readonly endpoint: EndpointRecord,
    readonly timeoutMs: number,
    readonly mayRetry: boolean,
    readonly started: number,
    readonly tag: AttemptTag,
    readonly ctx: RelayContext,
    readonly resolve: (outcome: AttemptOutcome) => void,
    readonly reject: (failure: AttemptFailure | ClientGone) => void,
  ) {}

  /** Aborts the upstream request (the client went away). */
  abort(): void {
    this.#abortReason ??= new ClientGone('client went away');
    this.#controller?.abort(this.#abortReason);
  }

  /** undici: the request is on its way; keeps its controller to abort or pause it. */
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#abortReason) controller.abort(this.#abortReason);
  }

  /** undici: the upstream's status and headers arrived. */
  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // informational
    const { stats, clock } = this.ctx;
    this.#ttfb = clock.monotonic() - this.started;
    if (this.mayRetry && (RETRYABLE_STATUS.has(statusCode) || this.tag.route.failoverStatuses.has(statusCode))) {
      const failing = RETRYABLE_STATUS.has(statusCode);
      controller.abort(new AttemptFailure('upstream_error', `endpoint ${this.endpoint.name} answered HTTP ${statusCode}`, failing));
      return;
    }
    // A server error is a failure however fast it came: it must never make an endpoint look fast.
    if (statusCode < 500) stats.succeeded(this.endpoint.id, this.#ttfb);
    else stats.failed(this.endpoint.id);
    this.#status = statusCode;
    const contentType = headers['content-type'];
    this.#streamed = typeof contentType === 'string' && contentType.startsWith('text/event-stream');
    // Node sends the headers with the first body write: one write per response.
    this.res.writeHead(statusCode, clientResponseHeaders(headers, this.endpoint.id, this.tag.reason, this.tag.queueMs));
    this.#relaying = true;
    if (!this.#streamed) this.#answer();
    // An event stream's headers ride with its first event when that arrived with them (undici
    // delivers what one read holds before the event loop turns); otherwise they go out on their
    // own at once, so the client sees the stream open while the endpoint is still working.
    if (this.#streamed) setImmediate(this.#flush);
  }

  /** undici: a body chunk; pauses the upstream while the client cannot take more. */
  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#bodySent = true;
    this.#tail.push(chunk);
    if (this.#chunks++ === 0) {
      this.#firstChunkAt = this.ctx.clock.monotonic();
      this.#answer();
      if (this.#streamed && this.#status >= 200 && this.#status < 300) {
        this.ctx.stats.firstEvent(this.endpoint.id, this.tag.model, this.tag.inFlightAtStart, this.#firstChunkAt - this.started);
      }
    }
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', this.#onDrain);
    }
  }

  /** undici: the upstream's response ended. */
  onResponseEnd(): void {
    this.#bodySent = true;
    this.res.end();
    this.#settle(null);
  }

  /** undici: the attempt failed — before answering (reject), or mid-response (end or cut). */
  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (!this.#relaying) {
      this.#answer();
      this.ctx.release(this.endpoint.id);
      this.#settled = true;
      this.reject(error instanceof AttemptFailure || error instanceof ClientGone ? error : toAttemptFailure(error, this.timeoutMs));
      return;
    }
    if (error instanceof ClientGone) return this.#settle(null);
    this.ctx.logger.warn({ endpoint_id: this.endpoint.id }, 'upstream failed mid-response');
    if (this.#streamed && !this.res.destroyed) {
      this.res.end(this.tag.route.errors.streamEvent(new LlmlbError('upstream_error', `endpoint ${this.endpoint.name} failed mid-stream`)));
    } else {
      this.res.destroy();
    }
    this.ctx.strike(this.endpoint);
    this.#settle('upstream_error');
  }

  #settle(error: ErrorCode | null): void {
    if (this.#settled) return;
    this.#settled = true;
    this.res.off('drain', this.#onDrain);
    this.#answer();
    if (error === null && this.#status >= 200 && this.#status < 300) this.#learn();
    this.ctx.release(this.endpoint.id);
    this.resolve({ status: this.#status, ttfb: this.#ttfb, streamed: this.#streamed, error, tail: this.#tail });
  }

  /** The request no longer awaits its first byte (it came, or never will). */
  #answer(): void {
    if (this.#answered) return;
    this.#answered = true;
    this.ctx.stats.answered(this.endpoint.id, this.tag.claimedAt);
  }

  /** Teaches the stats how this answered request went: its latency at its load, its decode pace. */
  #learn(): void {
    const streamed = this.#streamed && this.#chunks > 0;
    // Learned once the answer ended: the end comes right after the last chunk.
    const endedAt = this.ctx.clock.monotonic();
    this.ctx.stats.observe(this.endpoint.id, {
      model: this.tag.model,
      streamed,
      inFlightAtStart: this.tag.inFlightAtStart,
      latencyMs: endedAt - this.started,
      msPerChunk: streamed && this.#chunks > 1 ? (endedAt - this.#firstChunkAt) / (this.#chunks - 1) : null,
      chunks: streamed ? this.#chunks : 0,
    });
  }
}

/** The attempt failure for an error undici raised before the endpoint answered. */
function toAttemptFailure(err: unknown, timeoutMs: number): AttemptFailure {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
    return new AttemptFailure('upstream_timeout', `no response from the endpoint within ${timeoutMs} ms`);
  }
  if (typeof code === 'string') return new AttemptFailure('upstream_error', `cannot reach the endpoint (${code})`);
  return new AttemptFailure('upstream_error', 'cannot reach the endpoint');
}
