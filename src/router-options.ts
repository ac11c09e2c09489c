/**
 * The options of `createRouter`: their types, their validation, and one parse with precise
 * messages (the path of the bad option and what it expects).
 */
import { z } from 'zod';
import type { Dispatcher } from 'undici';
import type { Clock } from './clock.js';
import { type ClusterOptions, clusterOptionSchema } from './cluster/index.js';
import { MIN_SECRET_LENGTH } from './crypto.js';
import { HealthChecker, type HealthCheckerOptions } from './health/checker.js';
import type { FetchLike } from './health/probe.js';
import { type AuthOption, authOptionSchema } from './http/auth.js';
import type { Logger } from './logger.js';
import type { EventsOptions } from './observe/events.js';
import type { MetricsOptions } from './observe/metrics.js';
import type { CapabilityDetector, CapabilityRule } from './models/capabilities.js';
import { parseOptions } from './options.js';
import { type ProxyOptions, proxyOptionsSchema } from './proxy/options.js';
import type { Selector } from './select/types.js';
import type { StorageAdapter } from './storage/types.js';
import { type UpstreamPolicyOptions, upstreamPolicyOptionsSchema } from './upstream-policy.js';

const hasMethods = (value: unknown, names: readonly string[]): boolean =>
  typeof value === 'object' &&
  value !== null &&
  names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');

const STORAGE_METHODS = ['init', 'close', 'insertEndpoint', 'updateEndpoint', 'deleteEndpoint', 'listEndpoints', 'changesSince', 'tryLease'] as const;

/** Validates {@link RouterOptions}. */
/** Validates the `metrics` option. */
const metricsOptionsSchema = z.union([
  z.boolean(),
  z.strictObject({
    registry: z.custom<NonNullable<MetricsOptions['registry']>>((v) => hasMethods(v, ['metrics', 'registerMetric', 'getSingleMetric']), 'must be a prom-client Registry').optional(),
    prefix: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'must be a Prometheus metric name prefix such as "llmlb_"').optional(),
  }),
]);

/** Validates the `events` option. */
const eventsOptionsSchema = z.strictObject({
  resumeWindowMs: z.number().int().min(0).max(3_600_000).optional(),
  trafficIntervalMs: z.number().int().min(50).max(60_000).optional(),
  heartbeatMs: z.number().int().min(50).max(300_000).optional(),
});

const routerOptionsSchema = z.strictObject({
  metrics: metricsOptionsSchema.optional(),
  events: eventsOptionsSchema.optional(),
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
  cluster: clusterOptionSchema.optional(),
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
  /**
   * Several routers on one shared storage: follow each other's writes, elect one checker per
   * endpoint through leases (options), or `false` to act alone. Default: on when the storage is
   * shared (`postgresStorage()`), off otherwise.
   */
  cluster?: ClusterOptions | boolean;
  /**
   * Prometheus metrics: `true`, or `{ registry, prefix }` to use your own prom-client registry
   * and name prefix (default `llmlb_`). Set, metrics count from creation; unset, from the first
   * `router.metrics()` or the mounting of a handler that serves them.
   */
  metrics?: boolean | MetricsOptions;
  /** The live event stream (`GET /v0/events`): resume window, traffic interval, heartbeats. */
  events?: EventsOptions;
}

/** Router options after validation. */
export type ParsedRouterOptions = z.output<typeof routerOptionsSchema>;

/** Validates router options; `invalid_request` naming the bad option and what it expects. */
export function parseRouterOptions(options: RouterOptions): ParsedRouterOptions {
  return parseOptions(routerOptionsSchema, options, 'router options');
}
