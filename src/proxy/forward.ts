/**
 * Forwarding (SPEC §5): choose an online endpoint for the requested model with the selector,
 * forward the original request bytes with undici, fail over to another endpoint until one
 * answers, and report every request as an event. Each attempt is relayed by a {@link Relay}.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { type SecretBox, openApiKey } from '../crypto.js';
import { type ErrorCode, LlmlbError, toLlmlbError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PassiveHealth } from '../health/outlier.js';
import type { RegistryView } from '../registry.js';
import type { Capability, EndpointRecord } from '../schema.js';
import type { SelectionCandidate, SelectionContext, Selector } from '../select/types.js';
import { upstreamRequestHeaders } from './headers.js';
import { sendOpenAiError } from './openai-error.js';
import { AttemptFailure, type AttemptOutcome, Relay, type RelayContext } from './relay.js';
import type { EndpointStats } from './stats.js';
import type { BodyTail, TokenUsage } from './usage.js';

export type { TokenUsage } from './usage.js';

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
  /** Token counts from the upstream's `usage` (JSON body or final stream event), when it sent them. */
  usage: TokenUsage | null;
  /** Name of the client key that made the request (never the key), when the caller has one. */
  key_name: string | null;
  /** Time waited in llmlb's admission queue, in ms (set by routers that queue). */
  queue_ms?: number;
  /** Why the endpoint was chosen (set by routers that explain their choice). */
  route_reason?: string;
}

/** Where and how to reach an endpoint, derived once per endpoint record. */
interface UpstreamTarget {
  origin: string;
  pathPrefix: string;
  authorization: string | null;
}

/** One request on its way through the attempts: what they and the final report share. */
interface Trip {
  readonly route: InferenceRoute;
  readonly model: string;
  /** Name of the caller's key, for the request event. */
  readonly keyName: string | null;
  /** Monotonic ms when forwarding began. */
  readonly started: number;
  attempts: number;
  /** The endpoint of the latest attempt. */
  last: EndpointRecord | undefined;
  /** The relay of the attempt in progress: a client that goes away aborts it. */
  current: Relay | undefined;
  clientGone: boolean;
}

/** What the proxy works with. */
export interface ProxyDeps {
  registry: RegistryView;
  stats: EndpointStats;
  /** Passive health: suspensions after failures, and the strike that checks at once. */
  passive: PassiveHealth;
  selector: Selector;
  dispatcher: Dispatcher;
  secretBox: SecretBox | null;
  clock: Clock;
  logger: Logger;
  /** Emits a request event (only called when someone listens). */
  emit: (event: RequestEvent) => void;
  hasListeners: () => boolean;
  options: Required<ProxyOptions>;
}

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
    const { registry, stats, passive, selector, clock } = this.#deps;
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
    if (candidates.some((c) => passive.isSuspended(c.id, now))) {
      const healthy = candidates.filter((c) => !passive.isSuspended(c.id, now));
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
   * the client: the upstream's response, or an OpenAI-shaped error. Never throws. `keyName` names
   * the caller's key in the request event.
   */
  async forward(req: IncomingMessage, res: ServerResponse, route: InferenceRoute, body: Buffer, model: string, keyName: string | null = null): Promise<void> {
    const { path, capability } = ROUTES[route];
    const started = this.#deps.clock.monotonic();
    const trip: Trip = { route, model, keyName, started, attempts: 0, last: undefined, current: undefined, clientGone: false };
    res.once('close', () => {
      if (!res.writableFinished) {
        trip.clientGone = true;
        trip.current?.abort();
      }
    });
    let tried: Set<string> | undefined;
    let lastFailure: AttemptFailure | undefined;
    for (;;) {
      let endpoint: EndpointRecord;
      try {
        endpoint = this.select(model, capability, tried);
      } catch (err) {
        const noneLeft = err instanceof LlmlbError && err.code === 'no_available_endpoint';
        // A custom selector may throw anything.
        return this.#answerError(res, trip, lastFailure && noneLeft ? lastFailure.toError(trip.attempts) : toLlmlbError(err));
      }
      trip.last = endpoint;
      trip.attempts++;
      // Another attempt is possible only within the budget and while another candidate is left;
      // otherwise the endpoint's own answer (e.g. a 503 with Retry-After) goes to the client.
      const mayRetry =
        trip.attempts <= this.#deps.options.retries && this.#deps.registry.onlineEndpointsFor(model, capability).length > trip.attempts;
      try {
        const outcome = await this.#attempt(req, res, endpoint, path, body, mayRetry, trip);
        return this.#report(trip, trip.clientGone ? 0 : outcome.status, outcome.ttfb, outcome.streamed, outcome.error, outcome.tail);
      } catch (err) {
        if (trip.clientGone) return this.#report(trip, 0, null, false, null, null);
        lastFailure = err instanceof AttemptFailure ? err : new AttemptFailure('upstream_error', 'upstream request failed');
        this.#strike(endpoint);
        this.#deps.logger.warn({ endpoint_id: endpoint.id, model, reason: lastFailure.message }, 'upstream attempt failed');
        if (!mayRetry) return this.#answerError(res, trip, lastFailure.toError(trip.attempts));
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
    trip: Trip,
  ): Promise<AttemptOutcome> {
    const { dispatcher, stats, clock } = this.#deps;
    const target = this.#target(endpoint);
    const timeoutMs = endpoint.inference_timeout_secs * 1000;
    stats.started(endpoint.id);
    return new Promise<AttemptOutcome>((resolve, reject) => {
      const relay = new Relay(res, endpoint, timeoutMs, mayRetry, clock.monotonic(), this.#relayContext, resolve, reject);
      trip.current = relay;
      if (trip.clientGone) relay.abort();
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

  /** Answers the client with llmlb's own error (nothing was relayed) and reports the request. */
  #answerError(res: ServerResponse, trip: Trip, error: LlmlbError): void {
    if (!res.destroyed) sendOpenAiError(res, error);
    this.#report(trip, error.status, null, false, error.code, null);
  }

  /** Emits the `request` event of a finished request, built only when someone listens. */
  #report(trip: Trip, status: number, ttfb: number | null, streamed: boolean, error: ErrorCode | null, tail: BodyTail | null): void {
    if (!this.#deps.hasListeners()) return;
    this.#deps.emit({
      route: trip.route,
      model: trip.model,
      endpoint_id: trip.last?.id ?? null,
      endpoint_name: trip.last?.name ?? null,
      status,
      attempts: trip.attempts,
      ttfb_ms: ttfb === null ? null : roundMs(ttfb),
      duration_ms: roundMs(this.#deps.clock.monotonic() - trip.started),
      streamed,
      error,
      usage: tail === null ? null : tail.usage(),
      key_name: trip.keyName,
    });
  }

  /** A request to the endpoint failed before it answered: count it, and let passive health act. */
  #strike(endpoint: EndpointRecord): void {
    this.#deps.stats.failed(endpoint.id);
    this.#deps.passive.failed(endpoint.id);
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

/** Milliseconds to 0.01 ms. */
function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** The query string of a request URL, `?` included, or "". */
function querySuffix(url: string | undefined): string {
  const at = url?.indexOf('?') ?? -1;
  return at === -1 || url === undefined ? '' : url.slice(at);
}
