/**
 * `createRouter`: validates options, wires storage, registry, secret box and endpoint API, and
 * owns the lifecycle (`start` / `stop`).
 */
import { z } from 'zod';
import { type Clock, systemClock } from './clock.js';
import { MIN_SECRET_LENGTH, type SecretBox, createSecretBox } from './crypto.js';
import { EventEmitter } from 'eventemitter3';
import { Agent, type Dispatcher } from 'undici';
import { ModelCatalog } from './catalog.js';
import { EndpointService } from './endpoints.js';
import { runCheck } from './health/check.js';
import { HealthChecker, type HealthCheckerOptions, announceCheck, announceError, bindChecker } from './health/checker.js';
import { dispatcherFetch } from './health/dispatcher-fetch.js';
import { type FetchLike, type ProbeOptions, modelListProbe, probeVersion } from './health/probe.js';
import { RetentionLoop } from './health/retention.js';
import { CheckScheduler } from './health/scheduler.js';
import { setRouterInternals } from './internals.js';
import { modelSync } from './models/sync.js';
import { EndpointStore } from './store.js';
import { type CapabilityDetector, type CapabilityRule, toCapabilityDetector } from './models/capabilities.js';
import { LlmlbError } from './errors.js';
import { type AuthOption, authOptionSchema, createAuthenticator } from './http/auth.js';
import { type Logger, silentLogger } from './logger.js';
import { InferenceProxy, type ProxyOptions, type RequestEvent, proxyOptionsSchema } from './proxy/forward.js';
import { EndpointStats } from './proxy/stats.js';
import { LiveStats } from './live-stats.js';
import { PassiveHealth } from './health/outlier.js';
import { latencySelector } from './select/latency.js';
import type { Selector } from './select/types.js';
import { type UpstreamPolicyOptions, createUpstreamPolicy, upstreamPolicyOptionsSchema } from './upstream-policy.js';
import { type Endpoint, type EndpointRecord, parseOrThrow, toPublicEndpoint } from './schema.js';
import { memoryStorage } from './storage/memory/index.js';
import type { StorageAdapter } from './storage/types.js';

const hasMethods = (value: unknown, names: readonly string[]): boolean =>
  typeof value === 'object' &&
  value !== null &&
  names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');

const STORAGE_METHODS = ['init', 'close', 'insertEndpoint', 'updateEndpoint', 'deleteEndpoint', 'listEndpoints', 'changesSince', 'tryLease'] as const;

const routerOptionsSchema = z.strictObject({
  storage: z
    .custom<StorageAdapter>((v) => hasMethods(v, STORAGE_METHODS), 'must be a StorageAdapter (e.g. sqliteStorage())')
    .optional(),
  secret: z.string().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters`).optional(),
  logger: z
    .custom<Logger>((v) => hasMethods(v, ['debug', 'info', 'warn', 'error']), 'must have debug/info/warn/error methods')
    .optional(),
  clock: z
    .custom<Clock>((v) => hasMethods(v, ['now', 'monotonic', 'setTimeout', 'clearTimeout']), 'must implement Clock')
    .optional(),
  checker: z
    .union([
      z.literal(false),
      z.instanceof(HealthChecker),
      z.custom<HealthCheckerOptions>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'must be an object'),
    ])
    .optional(),
  auth: authOptionSchema.optional(),
  selector: z.custom<Selector>((v) => typeof v === 'function', 'must be a selector function').optional(),
  proxy: proxyOptionsSchema.optional(),
  connections: z.number().int().min(1).max(100_000).optional(),
  upstreams: upstreamPolicyOptionsSchema.optional(),
  fetch: z.custom<FetchLike>((v) => typeof v === 'function', 'must be a fetch function').optional(),
  dispatcher: z.custom<Dispatcher>((v) => hasMethods(v, ['dispatch', 'close']), 'must be an undici Dispatcher').optional(),
  capabilities: z
    .union([
      z.custom<CapabilityDetector>((v) => typeof v === 'function'),
      z.array(z.custom<CapabilityRule>((v) => typeof v === 'object' && v !== null && (v as CapabilityRule).test instanceof RegExp)),
    ], { error: 'must be a list of capability rules or a function (modelId) => capabilities' })
    .optional(),
});

/** Options of {@link createRouter}. */
export interface RouterOptions {
  /** Where endpoints, models and history live. Default: {@link memoryStorage} (nothing persists). */
  storage?: StorageAdapter;
  /**
   * Secret (≥ 16 characters) from which the key that encrypts upstream api keys at rest is
   * derived. Required to store any api_key; must stay the same across restarts.
   */
  secret?: string;
  /** pino-compatible logger. Default: silent. */
  logger?: Logger;
  /** Time source and timers. Default: the system clock. */
  clock?: Clock;
  /**
   * Health checker options, or a {@link HealthChecker} instance, or `false` to turn scheduled
   * checks off (connection tests and sync still work). Default: `{}`.
   */
  checker?: HealthCheckerOptions | HealthChecker | false;
  /**
   * Who may call the HTTP API: `{ keys: [{ key, role }] }` (roles `admin`, `viewer`, `client`;
   * `{ sha256, role }` to keep plaintext keys out of configs), a function `(req) => principal |
   * null`, or `false` to serve HTTP without auth. Required before mounting an HTTP adapter.
   */
  auth?: AuthOption;
  /**
   * `fetch` used for health checks, connection tests and model sync. Default: a fetch-shaped
   * function on the router's dispatcher (which, unlike `fetch`, allows every port).
   */
  fetch?: FetchLike;
  /**
   * undici Dispatcher for upstream traffic (proxy and checks). Default: an `Agent` with
   * keep-alive connection pools per endpoint origin and no pipelining, closed on `stop()`.
   */
  dispatcher?: Dispatcher;
  /** Most connections per endpoint origin of the default dispatcher. Default: unlimited. */
  connections?: number;
  /** Chooses the endpoint for each request among the online candidates. Default: {@link latencySelector}. */
  selector?: Selector;
  /** Proxy behaviour: body limit, failover retries, suspension after a failure. */
  proxy?: ProxyOptions;
  /**
   * Opt-in allow/deny lists of upstream hosts (names, `*.domain`, IPs, CIDR ranges) checked at
   * registration. Default: any http(s) host.
   */
  upstreams?: UpstreamPolicyOptions;
  /** Capability rules (first match wins) or a detector function. Default: `DEFAULT_CAPABILITY_RULES`. */
  capabilities?: readonly CapabilityRule[] | CapabilityDetector;
}

const DEFAULT_SUSPEND_MS = 10_000;

/** Lifecycle state of a router. */
export type RouterState = 'created' | 'starting' | 'started' | 'stopped';

/** Typed events of a {@link Router}. */
export interface RouterEvents {
  /** A proxied request finished (successfully or not). */
  request: (event: RequestEvent) => void;
}

/**
 * An llmlb router. Create it with {@link createRouter}, `start()` it, use `endpoints`, and
 * `stop()` it when done. It emits `request` events for proxied requests.
 *
 * @example
 * const router = createRouter({ auth: { keys: [{ key: process.env.ADMIN_KEY!, role: 'admin' }] } });
 * await router.start();
 * router.on('request', (e) => metrics.observe(e.model, e.status, e.duration_ms));
 */
export interface Router extends EventEmitter<RouterEvents> {
  /** The programmatic endpoint API. */
  readonly endpoints: EndpointService;
  /** Every model the router knows, with the endpoints serving it. */
  readonly models: ModelCatalog;
  /** The health checker: subscribe to its events, or check an endpoint now. */
  readonly checker: HealthChecker;
  /** Live figures of each endpoint's traffic (in flight, latency, failures, suspension). */
  readonly stats: LiveStats;
  /** Current lifecycle state. */
  readonly state: RouterState;
  /**
   * The endpoint the selector would pick for `model` right now (programmatic routing), as a
   * frozen object.
   * Throws `model_not_found`, `no_available_endpoint`, or `invalid_request` for a capability
   * the model lacks.
   */
  select(model: string, capability?: 'chat' | 'embeddings'): Readonly<Endpoint>;
  /**
   * Prepares storage, loads the registry and launches the start-up round of health checks (all
   * endpoints at once; `checker.idle()` tells when it is done). Call once before anything else.
   */
  start(): Promise<void>;
  /** Stops timers and closes storage. Idempotent; a stopped router cannot be started again. */
  stop(): Promise<void>;
}

class LlmlbRouter extends EventEmitter<RouterEvents> implements Router {
  readonly endpoints: EndpointService;
  readonly models: ModelCatalog;
  readonly stats: LiveStats;
  readonly checker: HealthChecker;
  readonly #store: EndpointStore;
  readonly #scheduler: CheckScheduler;
  readonly #retention: RetentionLoop;
  readonly #proxy: InferenceProxy;
  readonly #storage: StorageAdapter;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #secretBox: SecretBox | null;
  readonly #logger: Logger;
  /** Frozen public copies of records, so `select` allocates nothing per call. */
  readonly #publicEndpoints = new WeakMap<EndpointRecord, Endpoint>();
  #state: RouterState = 'created';
  #starting: Promise<void> | undefined;

  constructor(options: z.output<typeof routerOptionsSchema>) {
    super();
    this.#storage = options.storage ?? memoryStorage();
    this.#secretBox = options.secret === undefined ? null : createSecretBox(options.secret);
    const logger = (this.#logger = options.logger ?? silentLogger);
    const clock = options.clock ?? systemClock;
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 30_000, pipelining: 1, connections: options.connections ?? null });
    const store = (this.#store = new EndpointStore(this.#storage));
    const checker = (this.checker = toChecker(options.checker));
    const probeOptions: ProbeOptions = {
      fetch: options.fetch ?? dispatcherFetch(this.#dispatcher),
      clock,
      timeoutMs: checker.options.timeoutMs,
      maxBodyBytes: checker.options.maxBodyBytes,
    };
    const probe = modelListProbe(probeOptions);
    const sync = modelSync(store, toCapabilityDetector(options.capabilities), clock);
    const checkDeps = { store, probe, clock, secretBox: this.#secretBox, sync: checker.options.syncOnCheck ? sync : null };
    this.#scheduler = new CheckScheduler({
      store,
      clock,
      check: (record, signal) => runCheck(checkDeps, record, signal),
      owns: () => true,
      schedule: checker.options.schedule,
      concurrency: checker.options.concurrency,
      strikeRecheckMs: checker.options.strikeRecheckMs,
      onChecked: (result) => announceCheck(checker, result, logger),
      onError: (id, err) => announceError(checker, id, err, logger),
    });
    bindChecker(checker, { scheduler: this.#scheduler, store, logger });
    this.#retention = new RetentionLoop({
      storage: this.#storage,
      clock,
      logger,
      retentionDays: checker.options.retentionDays,
      intervalMs: checker.options.retentionIntervalMs,
      onError: (err) => announceError(checker, null, err, logger),
    });
    const stats = new EndpointStats();
    store.on('endpointRemoved', (endpoint) => stats.forget(endpoint.id));
    const proxyOptions = { bodyLimit: 16 * 1024 * 1024, retries: 2, suspendMs: DEFAULT_SUSPEND_MS, ...options.proxy };
    const passive = new PassiveHealth({
      clock,
      suspendMs: proxyOptions.suspendMs,
      strike: (id) => this.#scheduler.strike(id),
      checker,
      store,
    });
    this.#proxy = new InferenceProxy({
      registry: store.registry,
      stats,
      passive,
      selector: options.selector ?? latencySelector(),
      dispatcher: this.#dispatcher,
      secretBox: this.#secretBox,
      clock,
      logger,
      emit: (event) => this.emit('request', event),
      hasListeners: () => this.listenerCount('request') > 0,
      options: proxyOptions,
    });
    const assertStarted = () => this.#assertStarted();
    this.models = new ModelCatalog(store.registry, assertStarted);
    this.stats = new LiveStats(store.registry, stats, passive, clock, assertStarted);
    this.endpoints = new EndpointService({
      store,
      secretBox: this.#secretBox,
      clock,
      logger,
      checker,
      probe,
      probeVersion: (target) => probeVersion(target.base_url, target.apiKey, probeOptions),
      sync,
      upstreamPolicy: createUpstreamPolicy(options.upstreams),
      assertStarted,
    });
    setRouterInternals(this, {
      proxy: this.#proxy,
      authenticator: options.auth === undefined ? undefined : createAuthenticator(options.auth),
      logger,
      store,
    });
  }

  get state(): RouterState {
    return this.#state;
  }

  select(model: string, capability: 'chat' | 'embeddings' = 'chat'): Readonly<Endpoint> {
    this.#assertStarted();
    const record = this.#proxy.select(model, capability);
    let endpoint = this.#publicEndpoints.get(record);
    if (!endpoint) this.#publicEndpoints.set(record, (endpoint = Object.freeze(toPublicEndpoint(record))));
    return endpoint;
  }

  start(): Promise<void> {
    if (this.#state === 'stopped') {
      return Promise.reject(new LlmlbError('not_ready', 'a stopped router cannot be started again'));
    }
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    this.#state = 'starting';
    try {
      await this.#storage.init();
      const loaded = await this.#store.load();
      this.#verifySecret(this.#store.registry.listEndpoints());
      this.#state = 'started';
      this.#scheduler.start();
      this.#retention.start();
      this.#logger.info({ storage: this.#storage.kind, ...loaded }, 'llmlb started');
    } catch (err) {
      this.#state = 'created';
      this.#starting = undefined;
      throw err;
    }
  }

  /** Fails start early, with a clear message, when stored api keys cannot be decrypted. */
  #verifySecret(endpoints: readonly { id: string; api_key_encrypted: string | null }[]): void {
    const sealed = endpoints.find((e) => e.api_key_encrypted !== null);
    if (!sealed || sealed.api_key_encrypted === null) return;
    if (!this.#secretBox) {
      throw new LlmlbError('invalid_request', 'storage holds encrypted api keys but no `secret` is configured');
    }
    this.#secretBox.open(sealed.api_key_encrypted, sealed.id);
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    if (this.#starting) await this.#starting.catch(() => undefined);
    this.#state = 'stopped';
    this.#retention.stop();
    await this.#scheduler.stop();
    await this.#storage.close();
    if (this.#ownsDispatcher) await this.#dispatcher.close();
    this.#logger.info('llmlb stopped');
  }

  #assertStarted(): void {
    if (this.#state === 'started') return;
    const hint = this.#state === 'stopped' ? 'the router is stopped' : 'call `await router.start()` first';
    throw new LlmlbError('not_ready', `router is not started: ${hint}`);
  }
}

function toChecker(option: RouterOptions['checker']): HealthChecker {
  if (option instanceof HealthChecker) return option;
  if (option === false) return new HealthChecker({ schedule: false });
  return new HealthChecker(option);
}

/**
 * Creates a router. Options are validated; a bad option throws `invalid_request`.
 *
 * @example
 * const router = createRouter({ storage: sqliteStorage({ filename: './llmlb.db' }), secret: process.env.LLMLB_SECRET });
 * await router.start();
 * await router.endpoints.create({ name: 'gpu-1', base_url: 'http://127.0.0.1:11434' });
 * await router.stop();
 */
export function createRouter(options: RouterOptions = {}): Router {
  const parsed = safeParseOptions(options);
  return new LlmlbRouter(parsed);
}

function safeParseOptions(options: RouterOptions): z.output<typeof routerOptionsSchema> {
  try {
    return parseOrThrow(routerOptionsSchema, options, 'router options');
  } catch (err) {
    if (err instanceof LlmlbError) throw new LlmlbError('invalid_request', err.message, { details: err.details });
    throw err;
  }
}
