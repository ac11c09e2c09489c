/**
 * `createRouter`: validates options, wires storage, registry, secret box and endpoint API, and
 * owns the lifecycle (`start` / `stop`).
 */
import { EventEmitter } from 'eventemitter3';
import { Agent, type Dispatcher } from 'undici';
import { AliasService } from './aliases.js';
import { AliasTable } from './alias-table.js';
import { ModelCatalog } from './catalog.js';
import { Cluster } from './cluster/index.js';
import { type Clock, systemClock } from './clock.js';
import { type SecretBox, createSecretBox } from './crypto.js';
import { EndpointService } from './endpoints.js';
import { LlmlbError } from './errors.js';
import type { HealthChecker } from './health/checker.js';
import { dispatcherFetch } from './health/dispatcher-fetch.js';
import { PassiveHealth } from './health/outlier.js';
import type { RetentionLoop } from './health/retention.js';
import type { CheckScheduler } from './health/scheduler.js';
import { createHealth, toHealthChecker } from './health/wiring.js';
import { configKeysOf, createAuthenticator } from './http/auth.js';
import { setRouterInternals } from './internals.js';
import { RuntimeKeys } from './keys/index.js';
import type { KeyService } from './keys/service.js';
import { LoadBoard, NO_FIGURES } from './load-signals.js';
import { LiveStats } from './live-stats.js';
import { NodeService } from './nodes/service.js';
import { type Logger, silentLogger } from './logger.js';
import { toCapabilityDetector } from './models/capabilities.js';
import { InferenceProxy } from './proxy/forward.js';
import type { RequestEvent } from './proxy/options.js';
import { EndpointStats } from './proxy/stats.js';
import { type ParsedRouterOptions, type RouterOptions, parseRouterOptions } from './router-options.js';
import { type Capability, type Endpoint, type EndpointRecord, toPublicEndpoint } from './schema.js';
import { expectedLatencySelector } from './select/expected-latency.js';
import { memoryStorage } from './storage/memory/index.js';
import type { StorageAdapter } from './storage/types.js';
import { EndpointStore } from './store.js';
import { Observability } from './observe/observability.js';
import type { AdminEvent } from './observe/request-log.js';
import { createUpstreamPolicy } from './upstream-policy.js';

export type { RouterOptions } from './router-options.js';

/** Proxy options not given. */
const PROXY_DEFAULTS = { bodyLimit: 16 * 1024 * 1024, retries: 2, suspendMs: 10_000, queueLength: 1000, queueTimeoutMs: 30_000 } as const;

/** Lifecycle state of a router. */
export type RouterState = 'created' | 'starting' | 'started' | 'stopped';

/** Typed events of a {@link Router}. */
export interface RouterEvents {
  /** A proxied request finished (successfully or not). */
  request: (event: RequestEvent) => void;
  /** An admin write through the HTTP API finished (create, update, delete, test, sync). */
  admin: (event: AdminEvent) => void;
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
  /** Every model the router knows, with the endpoints serving it, and every alias with its targets. */
  readonly models: ModelCatalog;
  /** The programmatic alias API: one public model name for several backend model ids. */
  readonly aliases: AliasService;
  /** The health checker: subscribe to its events, or check an endpoint now. */
  readonly checker: HealthChecker;
  /** Live figures of each endpoint's traffic (in flight, latency, failures, suspension). */
  readonly stats: LiveStats;
  /** Runtime API keys: create, list, update, revoke, usage (see docs/keys.md). */
  readonly keys: KeyService;
  /** Current lifecycle state. */
  readonly state: RouterState;
  /**
   * The Prometheus exposition of the router's metrics (text format 0.0.4). Metrics count from
   * creation when the `metrics` option is set, from the first call or from mounting a handler
   * with `metrics` otherwise.
   */
  metrics(): Promise<string>;
  /**
   * The endpoint the selector would pick for `model` right now (programmatic routing), as a
   * frozen object.
   * Throws `model_not_found`, `no_available_endpoint`, or `invalid_request` for a capability
   * the model lacks.
   */
  select(model: string, capability?: Capability): Readonly<Endpoint>;
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
  readonly aliases: AliasService;
  readonly stats: LiveStats;
  readonly checker: HealthChecker;
  readonly keys: KeyService;
  readonly #runtimeKeys: RuntimeKeys;
  readonly #store: EndpointStore;
  readonly #aliasTable: AliasTable;
  readonly #cluster: Cluster;
  readonly #scheduler: CheckScheduler;
  readonly #retention: RetentionLoop;
  readonly #proxy: InferenceProxy;
  readonly #storage: StorageAdapter;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #secretBox: SecretBox | null;
  readonly #logger: Logger;
  readonly #observe: Observability;
  readonly #nodes: NodeService;
  /** Frozen public copies of records, so `select` allocates nothing per call. */
  readonly #publicEndpoints = new WeakMap<EndpointRecord, Endpoint>();
  #state: RouterState = 'created';
  #starting: Promise<void> | undefined;

  constructor(options: ParsedRouterOptions) {
    super();
    this.#storage = options.storage ?? memoryStorage();
    this.#secretBox = options.secret === undefined ? null : createSecretBox(options.secret);
    const logger = (this.#logger = options.logger ?? silentLogger);
    const clock = options.clock ?? systemClock;
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 30_000, pipelining: 1, connections: options.connections ?? null });
    const store = (this.#store = new EndpointStore(this.#storage));
    this.#aliasTable = new AliasTable(this.#storage, store);
    const load = new LoadBoard();
    store.on('endpointRemoved', (endpoint) => load.forget(endpoint.id));
    const checker = (this.checker = toHealthChecker(options.checker));
    const cluster = (this.#cluster = new Cluster(
      {
        storage: this.#storage,
        store,
        clock,
        strike: (id) => this.#scheduler.strike(id),
        claimed: (id) => this.#scheduler.claimed(id),
        onError: (err) => logger.warn({ err }, 'llmlb cluster: shared storage round failed'),
      },
      options.cluster,
    ));
    const health = this.#createHealth(options, { checker, cluster, load, clock, logger });
    this.#scheduler = health.scheduler;
    this.#retention = health.retention;
    const stats = new EndpointStats(load);
    const passive = new PassiveHealth({
      clock,
      suspendMs: options.proxy?.suspendMs ?? PROXY_DEFAULTS.suspendMs,
      strike: (id) => cluster.strike(id),
      checker,
      store,
    });
    this.#proxy = this.#createProxy(options, stats, passive);
    const assertStarted = () => this.#assertStarted();
    const upstreamPolicy = createUpstreamPolicy(options.upstreams);
    this.models = new ModelCatalog(store.registry, this.#aliasTable, assertStarted);
    this.aliases = new AliasService({ table: this.#aliasTable, registry: store.registry, clock, assertStarted });
    const proxy = this.#proxy;
    this.stats = new LiveStats({ registry: store.registry, traffic: stats, passive, clock, queued: () => proxy.queueLength }, assertStarted);
    this.endpoints = new EndpointService({
      store,
      secretBox: this.#secretBox,
      clock,
      logger,
      checker,
      probe: health.probe,
      probeVersion: health.probeVersion,
      sync: health.sync,
      upstreamPolicy,
      assertStarted,
    });
    const nodes = (this.#nodes = new NodeService({ store, storage: this.#storage, clock, logger, probe: health.probe, upstreamPolicy, load, assertStarted }));
    this.#observe = this.#createObservability(options);
    const keys = (this.#runtimeKeys = new RuntimeKeys({
      storage: this.#storage,
      store,
      clock,
      logger,
      configKeys: configKeysOf(options.auth),
      shares: () => cluster.membership.liveInstances(),
      assertStarted,
    }));
    this.keys = keys.service;
    setRouterInternals(this, {
      proxy: this.#proxy,
      keys,
      authenticator: options.auth === undefined ? undefined : createAuthenticator(options.auth, (digest) => keys.resolve(digest)),
      logger,
      store,
      load,
      nodes,
      membership: cluster.membership,
      checks: (id) => cluster.owns(id),
      observe: this.#observe,
      audit: (event) => this.emit('admin', event),
    });
  }

  /** Health checks, model sync and retention; what a check reads of a server's load goes on the board. */
  #createHealth(
    options: ParsedRouterOptions,
    { checker, cluster, load, clock, logger }: { checker: HealthChecker; cluster: Cluster; load: LoadBoard; clock: Clock; logger: Logger },
  ): ReturnType<typeof createHealth> {
    return createHealth({
      checker,
      store: this.#store,
      storage: this.#storage,
      clock,
      logger,
      fetch: options.fetch ?? dispatcherFetch(this.#dispatcher),
      secretBox: this.#secretBox,
      detectCapabilities: toCapabilityDetector(options.capabilities),
      owns: (id) => cluster.owns(id),
      shared: cluster.enabled,
      pruneRevokedKeys: (cutoff) => this.#runtimeKeys.service.pruneRevoked(cutoff),
      // What a check read replaces what the previous check read (nothing read: nothing known).
      load: (id, figures) => load.report(id, figures ?? NO_FIGURES, 'check', clock.now()),
    });
  }

  /** The `/v1` forwarder, with its selector, caps shared among the live instances, and request events. */
  #createProxy(options: ParsedRouterOptions, stats: EndpointStats, passive: PassiveHealth): InferenceProxy {
    const cluster = this.#cluster;
    const proxy = new InferenceProxy({
      store: this.#store,
      registry: this.#store.registry,
      aliases: this.#aliasTable,
      stats,
      passive,
      selector: options.selector ?? expectedLatencySelector(),
      dispatcher: this.#dispatcher,
      secretBox: this.#secretBox,
      clock: options.clock ?? systemClock,
      logger: this.#logger,
      // Usage is counted per key without a `request` listener, so that nothing listens unless asked.
      emit: (event) => {
        this.#runtimeKeys.recordRequest(event);
        this.emit('request', event);
      },
      reports: (keyId) => keyId !== null || this.listenerCount('request') > 0,
      capShares: () => cluster.membership.liveInstances(),
      options: { ...PROXY_DEFAULTS, ...options.proxy },
    });
    // Fewer instances sharing the caps leave each a larger share: queued requests may go now.
    cluster.membership.on('change', () => proxy.wake());
    return proxy;
  }

  /** Metrics, live events and readiness (created on use, unless `metrics` is set). */
  #createObservability(options: ParsedRouterOptions): Observability {
    const observe = new Observability({
      store: this.#store,
      checker: this.checker,
      stats: this.stats,
      clock: options.clock ?? systemClock,
      started: () => this.#state === 'started',
      ping: () => this.#storage.latestChange(),
      onRequest: (listener) => {
        this.on('request', listener);
        return () => void this.off('request', listener);
      },
      metrics: typeof options.metrics === 'object' ? options.metrics : {},
      events: options.events ?? {},
    });
    if (options.metrics !== undefined && options.metrics !== false) observe.metrics();
    return observe;
  }

  metrics(): Promise<string> {
    return this.#observe.metrics().text();
  }

  get state(): RouterState {
    return this.#state;
  }

  select(model: string, capability: Capability = 'chat'): Readonly<Endpoint> {
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
      const loaded = { ...(await this.#store.load()), aliases: await this.#aliasTable.load(), nodes: await this.#nodes.load(), keys: await this.#runtimeKeys.load() };
      this.#verifySecret(this.#store.registry.listEndpoints());
      await this.#cluster.start();
      this.#state = 'started';
      this.#scheduler.start();
      this.#retention.start();
      this.#runtimeKeys.start();
      const cluster = this.#cluster.enabled ? { instance: this.#cluster.membership.self } : {};
      this.#logger.info({ storage: this.#storage.kind, ...loaded, ...cluster }, 'llmlb started');
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
    this.#observe.close();
    this.#retention.stop();
    await this.#scheduler.stop();
    await this.#runtimeKeys.stop().catch((err: unknown) => this.#logger.warn({ err }, 'llmlb: key usage could not be written on stop'));
    await this.#cluster.stop();
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
  return new LlmlbRouter(parseRouterOptions(options));
}
