/**
 * The inference proxy (SPEC §5): choose an online endpoint for the requested model with the
 * selector, forward the original request bytes with undici, stream the answer back as it
 * arrives, fail over before the first byte, and report every request as an event.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { type SecretBox, openApiKey } from '../crypto.js';
import { type ErrorCode, LlmlbError, toLlmlbError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Registry } from '../registry.js';
import type { Capability, EndpointRecord } from '../schema.js';
import type { SelectionCandidate, SelectionContext, Selector } from '../select/types.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.js';
import { openAiErrorEvent, sendOpenAiError } from './openai-error.js';
import type { EndpointStats } from './stats.js';

/** The inference routes llmlb forwards. */
export type InferenceRoute = 'chat' | 'completions' | 'embeddings';

const ROUTES: Readonly<Record<InferenceRoute, { path: string; capability: Capability }>> = {
  chat: { path: '/v1/chat/completions', capability: 'chat' },
  completions: { path: '/v1/completions', capability: 'chat' },
  embeddings: { path: '/v1/embeddings', capability: 'embeddings' },
};

/** Options of the proxy (the `proxy` option of `createRouter`). */
export interface ProxyOptions {
  /** Largest accepted request body in bytes. Default 16 MiB. */
  bodyLimit?: number;
  /** Extra attempts on other endpoints when one fails before answering. Default 2. */
  retries?: number;
  /** How long an endpoint that just failed is avoided (unless nothing else is left), in ms. Default 10 000. */
  suspendMs?: number;
}

/** Validates {@link ProxyOptions}. */
export const proxyOptionsSchema = z.strictObject({
  bodyLimit: z.number().int().min(1024).max(1024 * 1024 * 1024).optional(),
  retries: z.number().int().min(0).max(10).optional(),
  suspendMs: z.number().int().min(0).max(3_600_000).optional(),
});

/** Payload of the router's `request` event: one proxied request, finished. */
export interface RequestEvent {
  route: InferenceRoute;
  model: string | null;
  /** The endpoint that answered (or the last one tried), null if none was chosen. */
  endpoint_id: string | null;
  endpoint_name: string | null;
  /** HTTP status sent to the client (0 when the client went away first). */
  status: number;
  /** Endpoints tried. */
  attempts: number;
  /** Time to the upstream's response headers, in ms to 0.01 ms (null if none arrived). */
  ttfb_ms: number | null;
  /** Time until the response ended, in ms to 0.01 ms. */
  duration_ms: number;
  /** True when the answer was an event stream. */
  streamed: boolean;
  /** llmlb error code when llmlb answered with an error, or when the stream broke. */
  error: ErrorCode | null;
}

/** Where and how to reach an endpoint, derived once per endpoint record. */
interface UpstreamTarget {
  origin: string;
  pathPrefix: string;
  authorization: string | null;
}

/** What the proxy works with. */
export interface ProxyDeps {
  registry: Registry;
  stats: EndpointStats;
  selector: Selector;
  dispatcher: Dispatcher;
  secretBox: SecretBox | null;
  clock: Clock;
  logger: Logger;
  /** Passive strike: check an endpoint now. */
  strike: (endpointId: string) => void;
  /** Emits a request event (only called when someone listens). */
  emit: (event: RequestEvent) => void;
  hasListeners: () => boolean;
  options: Required<ProxyOptions>;
}

/** Failures of one attempt that allow trying another endpoint. */
class AttemptFailure extends Error {
  constructor(
    readonly code: 'upstream_error' | 'upstream_timeout',
    message: string,
  ) {
    super(message);
  }

  /** The error for the client once no attempt is left. */
  toError(attempts: number): LlmlbError {
    return new LlmlbError(this.code, `${this.message} (after ${attempts} attempt${attempts === 1 ? '' : 's'})`);
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);
const RETRYABLE_STATUS = new Set([502, 503]);

/** The selector-facing error when no candidate is acceptable. */
const noEndpoint = (model: string) => new LlmlbError('no_available_endpoint', `no online endpoint serves model ${JSON.stringify(model)} right now`);

/**
 * Forwards inference requests. One instance per router.
 *
 * @example
 * await proxy.forward(req, res, 'chat', body, 'llama3.1:8b');
 */
export class InferenceProxy {
  readonly #deps: ProxyDeps;
  readonly #targets = new WeakMap<EndpointRecord, UpstreamTarget>();
  /** What every {@link Relay} shares. */
  readonly #relayContext: RelayContext;

  constructor(deps: ProxyDeps) {
    this.#deps = deps;
    this.#relayContext = {
      stats: deps.stats,
      clock: deps.clock,
      logger: deps.logger,
      strike: (endpoint) => this.#strike(endpoint),
    };
  }

  /** The largest accepted request body. */
  get bodyLimit(): number {
    return this.#deps.options.bodyLimit;
  }

  /**
   * Picks an endpoint for `model` (without forwarding anything). Throws `model_not_found`,
   * `no_available_endpoint` or `invalid_request` (model lacks the capability).
   */
  select(model: string, capability: Capability, exclude?: ReadonlySet<string>): EndpointRecord {
    const { registry, stats, selector, clock } = this.#deps;
    if (!registry.hasModel(model)) {
      throw new LlmlbError('model_not_found', `model ${JSON.stringify(model)} is not served by any endpoint`);
    }
    let candidates = registry.onlineEndpointsFor(model, capability);
    if (candidates.length === 0) {
      const anyWithCapability = registry.endpointsFor(model).some((e) => registry.hasCapability(e.id, model, capability));
      if (!anyWithCapability) {
        throw new LlmlbError('invalid_request', `model ${JSON.stringify(model)} does not support ${capability}`);
      }
      throw noEndpoint(model);
    }
    if (exclude && exclude.size > 0) candidates = candidates.filter((c) => !exclude.has(c.id));
    // Prefer endpoints not suspended after a recent failure; fall back to all if none is left.
    const now = clock.monotonic();
    if (candidates.some((c) => stats.isSuspended(c.id, now))) {
      const healthy = candidates.filter((c) => !stats.isSuspended(c.id, now));
      if (healthy.length > 0) candidates = healthy;
    }
    if (candidates.length === 0) throw noEndpoint(model);
    const context: SelectionContext = { model, capability, stats };
    const chosen: SelectionCandidate | undefined = selector(candidates, context);
    const record = chosen && registry.getEndpoint(chosen.id);
    if (!record || record.status !== 'online') throw noEndpoint(model);
    return record;
  }

  /**
   * Forwards one request whose body (`body`, the original bytes) names `model`. Always answers
   * the client: the upstream's response, or an OpenAI-shaped error. Never throws.
   */
  async forward(req: IncomingMessage, res: ServerResponse, route: InferenceRoute, body: Buffer, model: string): Promise<void> {
    const { clock, options } = this.#deps;
    const started = clock.monotonic();
    const { path, capability } = ROUTES[route];
    // The relay of the attempt in progress: a client that goes away aborts it.
    let current: Relay | undefined;
    let clientGone = false;
    const onClose = () => {
      if (!res.writableFinished) {
        clientGone = true;
        current?.abort();
      }
    };
    res.once('close', onClose);

    let tried: Set<string> | undefined;
    let last: EndpointRecord | undefined;
    let lastFailure: AttemptFailure | undefined;
    let attempts = 0;
    const report = (status: number, ttfb: number | null, streamed: boolean, error: ErrorCode | null) => {
      if (!this.#deps.hasListeners()) return;
      this.#deps.emit({
        route,
        model,
        endpoint_id: last?.id ?? null,
        endpoint_name: last?.name ?? null,
        status,
        attempts,
        ttfb_ms: ttfb === null ? null : roundMs(ttfb),
        duration_ms: roundMs(clock.monotonic() - started),
        streamed,
        error,
      });
    };

    for (;;) {
      let endpoint: EndpointRecord;
      try {
        endpoint = this.select(model, capability, tried);
      } catch (err) {
        const error =
          lastFailure && err instanceof LlmlbError && err.code === 'no_available_endpoint'
            ? lastFailure.toError(attempts)
            : toLlmlbError(err); // a custom selector may throw anything
        this.#fail(res, error);
        report(error.status, null, false, error.code);
        return;
      }
      last = endpoint;
      attempts++;
      // Another attempt is possible only within the budget and while another candidate is left;
      // otherwise the endpoint's own answer (e.g. a 503 with Retry-After) goes to the client.
      const mayRetry =
        attempts <= options.retries && this.#deps.registry.onlineEndpointsFor(model, capability).length > attempts;
      try {
        const outcome = await this.#attempt(req, res, endpoint, path, body, mayRetry, (relay) => {
          current = relay;
          if (clientGone) relay.abort();
        });
        report(clientGone ? 0 : outcome.status, outcome.ttfb, outcome.streamed, outcome.error);
        return;
      } catch (err) {
        if (clientGone) {
          report(0, null, false, null);
          return;
        }
        lastFailure = err instanceof AttemptFailure ? err : new AttemptFailure('upstream_error', 'upstream request failed');
        this.#strike(endpoint);
        this.#deps.logger.warn({ endpoint_id: endpoint.id, model, reason: lastFailure.message }, 'upstream attempt failed');
        if (!mayRetry) {
          const error = lastFailure.toError(attempts);
          this.#fail(res, error);
          report(error.status, null, false, error.code);
          return;
        }
        (tried ??= new Set()).add(endpoint.id);
      }
    }
  }

  /**
   * One attempt on one endpoint. Resolves once the response is fully relayed; rejects with an
   * {@link AttemptFailure} when the endpoint failed before any byte reached the client.
   */
  #attempt(
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: EndpointRecord,
    path: string,
    body: Buffer,
    mayRetry: boolean,
    onRelay: (relay: Relay) => void,
  ): Promise<AttemptOutcome> {
    const { dispatcher, stats, clock } = this.#deps;
    const target = this.#target(endpoint);
    const timeoutMs = endpoint.inference_timeout_secs * 1000;
    stats.started(endpoint.id);
    return new Promise<AttemptOutcome>((resolve, reject) => {
      const relay = new Relay(res, endpoint, timeoutMs, mayRetry, clock.monotonic(), this.#relayContext, resolve, reject);
      onRelay(relay);
      dispatcher.dispatch(
        {
          origin: target.origin,
          path: target.pathPrefix + path + querySuffix(req.url),
          method: 'POST',
          headers: upstreamRequestHeaders(req.headers, target.authorization, body.length),
          body,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        relay,
      );
    });
  }

  /**
   * Marks an endpoint as failing: avoid it for a while, and — once per suspension window, so a
   * burst of failures costs one check, not one each — have it checked now.
   */
  #strike(endpoint: EndpointRecord): void {
    const { stats, clock, options, strike } = this.#deps;
    const now = clock.monotonic();
    if (stats.failed(endpoint.id, now + options.suspendMs, now)) strike(endpoint.id);
  }

  #fail(res: ServerResponse, error: LlmlbError): void {
    if (res.destroyed) return;
    sendOpenAiError(res, error);
  }

  #target(endpoint: EndpointRecord): UpstreamTarget {
    let target = this.#targets.get(endpoint);
    if (!target) {
      const url = new URL(endpoint.base_url);
      const apiKey = openApiKey(this.#deps.secretBox, endpoint);
      const authorization = apiKey === null ? null : `Bearer ${apiKey}`;
      target = { origin: url.origin, pathPrefix: url.pathname === '/' ? '' : url.pathname, authorization };
      this.#targets.set(endpoint, target);
    }
    return target;
  }
}

/** How one attempt ended, once the response was relayed. */
interface AttemptOutcome {
  status: number;
  ttfb: number;
  streamed: boolean;
  error: ErrorCode | null;
}

/** What every relay shares with the proxy. */
interface RelayContext {
  stats: EndpointStats;
  clock: Clock;
  logger: Logger;
  strike: (endpoint: EndpointRecord) => void;
}

/** Why an attempt was aborted because the client went away. */
class ClientGone extends Error {}

/**
 * The undici handler of one attempt: writes the upstream's status, headers and body chunks to
 * the client as they arrive, with backpressure — no intermediate stream, no per-request abort
 * signal. Before the first byte, failures reject the attempt (so the proxy can fail over);
 * after it, a broken SSE stream ends with an error event and any other response is cut.
 */
class Relay implements Dispatcher.DispatchHandler {
  #controller: Dispatcher.DispatchController | undefined;
  #abortReason: Error | undefined;
  #relaying = false;
  #settled = false;
  #status = 0;
  #ttfb = 0;
  #streamed = false;
  readonly #onDrain = (): void => this.#controller?.resume();
  readonly #flush = (): void => {
    if (!this.res.headersSent && !this.res.destroyed) this.res.flushHeaders();
  };

  constructor(
    readonly res: ServerResponse,
    readonly endpoint: EndpointRecord,
    readonly timeoutMs: number,
    readonly mayRetry: boolean,
    readonly started: number,
    readonly ctx: RelayContext,
    readonly resolve: (outcome: AttemptOutcome) => void,
    readonly reject: (failure: AttemptFailure | ClientGone) => void,
  ) {}

  /** Aborts the upstream request (the client went away). */
  abort(): void {
    this.#abortReason ??= new ClientGone('client went away');
    this.#controller?.abort(this.#abortReason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#abortReason) controller.abort(this.#abortReason);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // informational
    const { stats, clock } = this.ctx;
    this.#ttfb = clock.monotonic() - this.started;
    if (this.mayRetry && RETRYABLE_STATUS.has(statusCode)) {
      controller.abort(new AttemptFailure('upstream_error', `endpoint ${this.endpoint.name} answered HTTP ${statusCode}`));
      return;
    }
    stats.succeeded(this.endpoint.id, this.#ttfb);
    this.#status = statusCode;
    const contentType = headers['content-type'];
    this.#streamed = typeof contentType === 'string' && contentType.startsWith('text/event-stream');
    this.res.writeHead(statusCode, clientResponseHeaders(headers, this.endpoint.id));
    this.#relaying = true;
    // An event stream's headers go out with its first event; if none comes right away, send
    // them on their own so the client sees the stream open.
    if (this.#streamed) setImmediate(this.#flush);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', this.#onDrain);
    }
  }

  onResponseEnd(): void {
    this.res.end();
    this.#settle(null);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (!this.#relaying) {
      this.ctx.stats.finished(this.endpoint.id);
      this.#settled = true;
      this.reject(error instanceof AttemptFailure || error instanceof ClientGone ? error : toAttemptFailure(error, this.timeoutMs));
      return;
    }
    if (error instanceof ClientGone) return this.#settle(null);
    this.ctx.logger.warn({ endpoint_id: this.endpoint.id }, 'upstream failed mid-response');
    if (this.#streamed && !this.res.destroyed) {
      this.res.end(openAiErrorEvent(new LlmlbError('upstream_error', `endpoint ${this.endpoint.name} failed mid-stream`)));
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
    this.ctx.stats.finished(this.endpoint.id);
    this.resolve({ status: this.#status, ttfb: this.#ttfb, streamed: this.#streamed, error });
  }
}

/** Milliseconds to 0.01 ms. */
function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function querySuffix(url: string | undefined): string {
  const at = url?.indexOf('?') ?? -1;
  return at === -1 || url === undefined ? '' : url.slice(at);
}

function toAttemptFailure(err: unknown, timeoutMs: number): AttemptFailure {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
    return new AttemptFailure('upstream_timeout', `no response from the endpoint within ${timeoutMs} ms`);
  }
  if (typeof code === 'string') return new AttemptFailure('upstream_error', `cannot reach the endpoint (${code})`);
  return new AttemptFailure('upstream_error', 'cannot reach the endpoint');
}
