/**
 * Forwarding (SPEC §5): choose an endpoint for the requested model or alias (`choose.ts`, with
 * the candidates of `candidates.ts`), wait in the
 * admission queue when every candidate is at its cap (`admission.ts`), forward the original
 * request bytes with undici (for an alias, with `model` rewritten to the endpoint's own id), fail
 * over to another endpoint until one answers, and report every request as an event. Each attempt is relayed by a {@link Relay}.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { AliasView } from '../alias-table.js';
import type { Clock } from '../clock.js';
import { type SecretBox, openApiKey } from '../crypto.js';
import { type ErrorCode, LlmlbError, toLlmlbError } from '../errors.js';
import type { PassiveHealth } from '../health/outlier.js';
import type { Logger } from '../logger.js';
import type { RegistryView } from '../registry.js';
import type { Capability, EndpointRecord } from '../schema.js';
import type { Selector } from '../select/types.js';
import { effectiveLoad } from '../select/upstream-load.js';
import type { EndpointStore } from '../store.js';
import { AdmissionQueue, type Ticket } from './admission.js';
import { SessionAffinity } from './affinity.js';
import { ModelCandidates } from './candidates.js';
import { type Choice, type ChoiceRequest, EndpointChooser } from './choose.js';
import { upstreamRequestHeaders } from './headers.js';
import { INFERENCE_ROUTES } from './inference-routes.js';
import type { InferenceRoute, ProxyOptions, RequestEvent } from './options.js';
import { AttemptFailure, type AttemptOutcome, Relay, type RelayContext } from './relay.js';
import { NO_NEEDS, type RequestNeeds } from './request-needs.js';
import type { EndpointStats } from './stats.js';
import type { BodyTail } from './usage.js';

/** What the request route learned of a request besides its model. */
export interface RequestHints {
  /** `"stream": true` in the body. */
  stream: boolean;
  /** The parsed body, for the session key of affinity. */
  body: unknown;
  /** What its content needs of the model (see `request-needs.ts`; `NO_NEEDS` for none). */
  needs: RequestNeeds;
  /** Name of the caller's key, for the request event (never the key). */
  keyName: string | null;
  /** Id of the caller's key, for the request event (never the key). */
  keyId: string | null;
}

/** Where and how to reach an endpoint, derived once per endpoint record. */
interface UpstreamTarget {
  origin: string;
  pathPrefix: string;
  authorization: string | null;
}

/** A queued request's slot: a choice, or the error that ended its wait. */
type Grant = Choice | LlmlbError;

/** One request on its way through the attempts: what they and the final report share. */
interface Trip {
  readonly route: InferenceRoute;
  readonly request: ChoiceRequest & { exclude: Set<string> | undefined };
  /** Name and id of the caller's key, for the request event. */
  readonly keyName: string | null;
  readonly keyId: string | null;
  /** Monotonic ms when forwarding began. */
  readonly started: number;
  attempts: number;
  /** The endpoint of the latest attempt, and why it was chosen. */
  last: EndpointRecord | undefined;
  reason: string | null;
  /** Time spent in the admission queue, in ms. */
  queueMs: number;
  /** The relay of the attempt in progress, or the queue ticket: a client that goes away ends it. */
  current: Relay | undefined;
  ticket: Ticket<Grant> | undefined;
  clientGone: boolean;
}

/** What the proxy works with. */
export interface ProxyDeps {
  /** Its changes: deleted endpoints are forgotten, any change may free slots for queued requests. */
  store: EndpointStore;
  registry: RegistryView;
  /** Model aliases: a request for one may go to any endpoint serving one of its targets. */
  aliases: AliasView;
  stats: EndpointStats;
  /** Passive health: suspensions after failures, and the strike that checks at once. */
  passive: PassiveHealth;
  selector: Selector;
  dispatcher: Dispatcher;
  secretBox: SecretBox | null;
  clock: Clock;
  logger: Logger;
  /** Reports a finished request (only called when {@link ProxyDeps.reports} says so). */
  emit: (event: RequestEvent) => void;
  /** Whether a request of this key (null: none) must be reported: someone listens, or its key's usage is counted. */
  reports: (keyId: string | null) => boolean;
  /** Instances sharing each endpoint's cap (see `EndpointChooser`). */
  capShares: () => number;
  options: Required<Omit<ProxyOptions, 'affinity'>> & Pick<ProxyOptions, 'affinity'>;
}

/**
 * Forwards inference requests. One instance per router.
 *
 * @example
 * await proxy.forward(req, res, 'chat', body, 'llama3.1:8b', { stream: false, body: parsed, needs: NO_NEEDS, keyName: null, keyId: null });
 */
export class InferenceProxy {
  readonly #deps: ProxyDeps;
  readonly #targets = new WeakMap<EndpointRecord, UpstreamTarget>();
  readonly #candidates: ModelCandidates;
  readonly #chooser: EndpointChooser;
  readonly #queue: AdmissionQueue<Grant>;
  readonly #affinity: SessionAffinity | null;
  /** What every {@link Relay} shares. */
  readonly #relayContext: RelayContext;

  constructor(deps: ProxyDeps) {
    this.#deps = deps;
    const { affinity } = deps.options;
    this.#affinity = affinity ? new SessionAffinity(affinity === true ? {} : affinity, deps.clock) : null;
    this.#candidates = new ModelCandidates(deps.registry, deps.aliases);
    this.#chooser = new EndpointChooser({ ...deps, candidates: this.#candidates, affinity: this.#affinity });
    this.#queue = new AdmissionQueue({ maxLength: deps.options.queueLength, timeoutMs: deps.options.queueTimeoutMs }, deps.clock);
    this.#relayContext = {
      stats: deps.stats,
      clock: deps.clock,
      logger: deps.logger,
      strike: (endpoint) => this.#strike(endpoint),
      release: (endpointId) => {
        deps.stats.finished(endpointId);
        this.#queue.release();
      },
    };
    deps.store.on('endpointRemoved', (endpoint) => {
      deps.stats.forget(endpoint.id);
      this.#affinity?.forgetEndpoint(endpoint.id);
    });
    deps.store.on('endpointChanged', () => this.#queue.release());
    deps.store.on('modelsChanged', () => this.#queue.release());
    deps.aliases.on('aliasChanged', () => this.#queue.release());
  }

  /** The largest accepted request body. */
  get bodyLimit(): number {
    return this.#deps.options.bodyLimit;
  }

  /** Requests waiting for a free slot now. */
  get queueLength(): number {
    return this.#queue.length;
  }

  /** Slots may have freed (e.g. fewer instances share the caps now): queued requests take them. */
  wake(): void {
    this.#queue.release();
  }

  /**
   * The endpoint the next request for `model` would go to now, without forwarding anything.
   * Throws `model_not_found`, `no_available_endpoint` (also when every candidate is at its cap)
   * or `invalid_request` (the model lacks the capability).
   */
  select(model: string, capability: Capability): EndpointRecord {
    const choice = this.#chooser.choose({ model, capability, stream: false, needs: NO_NEEDS, session: null, exclude: undefined });
    if (!choice) throw new LlmlbError('no_available_endpoint', `every endpoint serving ${JSON.stringify(model)} is at its concurrency cap`);
    return choice.endpoint;
  }

  /**
   * Forwards one request whose body (`body`, the original bytes) names `model`. Always answers
   * the client: the upstream's response, or an error in the route's shape. Never throws.
   */
  async forward(req: IncomingMessage, res: ServerResponse, route: InferenceRoute, body: Buffer, model: string, hints: RequestHints): Promise<void> {
    const { path, capability } = INFERENCE_ROUTES[route];
    const trip = this.#trip(route, model, hints, this.#affinity?.keyOf(req.headers, hints.body) ?? null);
    res.once('close', () => {
      if (res.writableFinished) return;
      trip.clientGone = true;
      trip.current?.abort();
      trip.ticket?.cancel();
    });
    let lastFailure: AttemptFailure | undefined;
    for (;;) {
      let choice: Choice;
      try {
        choice = await this.#admit(trip);
      } catch (err) {
        if (trip.clientGone) return this.#report(trip, 0, null, false, null, null);
        const noneLeft = err instanceof LlmlbError && err.code === 'no_available_endpoint';
        // A custom selector may throw anything.
        return this.#answerError(res, trip, lastFailure && noneLeft ? lastFailure.toError(trip.attempts) : toLlmlbError(err));
      }
      const endpoint = choice.endpoint;
      trip.last = endpoint;
      trip.attempts++;
      trip.reason = trip.attempts > 1 ? 'failover' : choice.reason;
      if (trip.request.session !== null) this.#affinity?.pin(trip.request.session, endpoint.id);
      // Another attempt is possible only within the budget and while another candidate is left;
      // otherwise the endpoint's own answer (e.g. a 503 with Retry-After) goes to the client.
      const mayRetry = trip.attempts <= this.#deps.options.retries && this.#candidates.online(model, capability).length > trip.attempts;
      try {
        const outcome = await this.#attempt(req, res, choice, path, body, mayRetry, trip);
        return this.#report(trip, trip.clientGone ? 0 : outcome.status, outcome.ttfb, outcome.streamed, outcome.error, outcome.tail);
      } catch (err) {
        if (trip.clientGone) return this.#report(trip, 0, null, false, null, null);
        lastFailure = err instanceof AttemptFailure ? err : new AttemptFailure('upstream_error', 'upstream request failed');
        if (lastFailure.strike) this.#strike(endpoint);
        this.#deps.logger.warn({ endpoint_id: endpoint.id, model, reason: lastFailure.message }, 'upstream attempt failed');
        if (!mayRetry) return this.#answerError(res, trip, lastFailure.toError(trip.attempts));
        (trip.request.exclude ??= new Set()).add(endpoint.id);
      }
    }
  }

  /**
   * A free slot for the request: at once when a candidate has one, else after waiting in the
   * admission queue (`queue_full` when it is full, `queue_timeout` when the wait is too long).
   * The slot is claimed (counted in flight) before this resolves.
   */
  async #admit(trip: Trip): Promise<Choice> {
    const now = this.#claim(this.#chooser.choose(trip.request), trip.request.stream);
    if (now) return now;
    const tryAcquire = (): Grant | null => {
      try {
        return this.#claim(this.#chooser.choose(trip.request), trip.request.stream);
      } catch (err) {
        return toLlmlbError(err);
      }
    };
    const began = this.#deps.clock.monotonic();
    trip.ticket = this.#queue.wait(tryAcquire);
    try {
      const grant = await trip.ticket.granted;
      if (grant instanceof LlmlbError) throw grant;
      return grant;
    } finally {
      trip.ticket = undefined;
      trip.queueMs += this.#deps.clock.monotonic() - began;
    }
  }

  /** Counts a chosen endpoint's slot as taken (from now: the claim's time goes with the choice). */
  #claim(choice: Choice | null, stream: boolean): Choice | null {
    if (choice) {
      choice.claimedAt = this.#deps.clock.monotonic();
      this.#deps.stats.started(choice.endpoint.id, choice.claimedAt, stream);
    }
    return choice;
  }

  /**
   * One attempt on one endpoint, whose slot is already claimed. Resolves once the response is
   * fully relayed; rejects with an {@link AttemptFailure} when the endpoint failed before any
   * byte reached the client.
   */
  #attempt(req: IncomingMessage, res: ServerResponse, choice: Choice, path: string, body: Buffer, mayRetry: boolean, trip: Trip): Promise<AttemptOutcome> {
    const { endpoint } = choice;
    const target = this.#target(endpoint);
    const timeoutMs = endpoint.inference_timeout_secs * 1000;
    const upstreamBody = this.#bodyFor(trip, endpoint, body, req.headers['content-type']);
    const tag = {
      model: trip.request.model,
      route: INFERENCE_ROUTES[trip.route],
      reason: trip.reason ?? '',
      queueMs: trip.queueMs,
      // Learned at the load the selector weighs: llmlb's own requests and the server's others.
      inFlightAtStart: effectiveLoad(endpoint, this.#deps.stats, this.#deps.clock.now()) - 1,
      claimedAt: choice.claimedAt,
    };
    return new Promise<AttemptOutcome>((resolve, reject) => {
      const relay = new Relay(res, endpoint, timeoutMs, mayRetry, this.#deps.clock.monotonic(), tag, this.#relayContext, resolve, reject);
      trip.current = relay;
      if (trip.clientGone) relay.abort();
      this.#deps.dispatcher.dispatch(
        {
          origin: target.origin,
          path: target.pathPrefix + path + querySuffix(req.url),
          method: 'POST',
          headers: upstreamRequestHeaders(req.headers, target.authorization, upstreamBody.length),
          body: upstreamBody,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        },
        relay,
      );
    });
  }

  /** The bytes to send `endpoint`: the client's own, or for an alias, with `model` naming the endpoint's target. */
  #bodyFor(trip: Trip, endpoint: EndpointRecord, body: Buffer, contentType: string | undefined): Buffer {
    const { model, capability } = trip.request;
    const upstreamModel = this.#candidates.upstreamModel(model, endpoint.id, capability);
    return upstreamModel === undefined || upstreamModel === model ? body : INFERENCE_ROUTES[trip.route].readdress(body, upstreamModel, contentType);
  }

  /**
   * Answers a request refused before routing (by its key's limits) in the route's error shape,
   * and reports it like any other request (event, request log, metrics, the key's usage).
   */
  refuse(res: ServerResponse, route: InferenceRoute, model: string, hints: RequestHints, error: LlmlbError): void {
    this.#answerError(res, this.#trip(route, model, hints, null), error);
  }

  /** A request's trip, before its first attempt. */
  #trip(route: InferenceRoute, model: string, hints: RequestHints, session: string | null): Trip {
    const request = { model, capability: INFERENCE_ROUTES[route].capability, stream: hints.stream, needs: hints.needs, session, exclude: undefined };
    return {
      route,
      request,
      keyName: hints.keyName,
      keyId: hints.keyId,
      started: this.#deps.clock.monotonic(),
      attempts: 0,
      last: undefined,
      reason: null,
      queueMs: 0,
      current: undefined,
      ticket: undefined,
      clientGone: false,
    };
  }

  /** Answers the client with llmlb's own error (nothing was relayed) and reports the request. */
  #answerError(res: ServerResponse, trip: Trip, error: LlmlbError): void {
    if (!res.destroyed) INFERENCE_ROUTES[trip.route].errors.send(res, error, this.#errorHeaders(trip, error));
    this.#report(trip, error.status, null, false, error.code, null);
  }

  /** `Retry-After` for the errors that say when to come back (and, after a wait, the time waited). */
  #errorHeaders(trip: Trip, error: LlmlbError): Record<string, string> | undefined {
    if (error.code === 'queue_full' || error.code === 'queue_timeout') {
      return { 'retry-after': String(this.#queue.retryAfterSecs), 'x-llmlb-queue-ms': String(Math.round(trip.queueMs)) };
    }
    return error.retryAfterSecs === undefined ? undefined : { 'retry-after': String(error.retryAfterSecs) };
  }

  /** Reports a finished request, built only when someone listens or its key's usage is counted. */
  #report(trip: Trip, status: number, ttfb: number | null, streamed: boolean, error: ErrorCode | null, tail: BodyTail | null): void {
    if (!this.#deps.reports(trip.keyId)) return;
    this.#deps.emit({
      route: trip.route,
      model: trip.request.model,
      endpoint_id: trip.last?.id ?? null,
      endpoint_name: trip.last?.name ?? null,
      status,
      attempts: trip.attempts,
      route_reason: trip.reason,
      queue_ms: roundMs(trip.queueMs),
      ttfb_ms: ttfb === null ? null : roundMs(ttfb),
      duration_ms: roundMs(this.#deps.clock.monotonic() - trip.started),
      streamed,
      error,
      usage: tail === null ? null : tail.usage(),
      key_name: trip.keyName,
      key_id: trip.keyId,
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
