/**
 * What the HTTP layer needs of a router but users do not: reached through a module-private map,
 * so none of it shows in the public `Router` type.
 */
import { LlmlbError } from './errors.js';
import type { Membership } from './cluster/membership.js';
import type { Authenticator } from './http/auth.js';
import type { RuntimeKeys } from './keys/index.js';
import type { LoadBoard } from './load-signals.js';
import type { Logger } from './logger.js';
import type { NodeService } from './nodes/service.js';
import type { InferenceProxy } from './proxy/forward.js';
import type { Observability } from './observe/observability.js';
import type { AdminEvent } from './observe/request-log.js';
import type { EndpointStore } from './store.js';

/** A router's internals. */
export interface RouterInternals {
  /** The `/v1` forwarder. */
  proxy: InferenceProxy;
  /**
   * Runtime API keys: `/v1` admission (`admit`, `allows`), and `consume(keyId)` for node
   * registration with a one-use registration token.
   */
  keys: RuntimeKeys;
  /** Resolves HTTP callers to principals; undefined when the router has no `auth` option. */
  authenticator: Authenticator | undefined;
  logger: Logger;
  /** The one writer of storage and registry (its `registry` is the read-only view). */
  store: EndpointStore;
  /** The load figures servers publish (through checks) or nodes send (through heartbeats). */
  load: LoadBoard;
  /** Self-registered nodes: registration, approval, the node list and heartbeats. */
  nodes: NodeService;
  /**
   * The live instances on a shared storage (one otherwise), with a `change` event: per-endpoint
   * limits are shared among them (each instance enforces `ceil(cap / liveInstances())`).
   */
  membership: Membership;
  /** Whether this instance is the endpoint's health checker (holds its lease; always when alone). */
  checks: (endpointId: string) => boolean;
  /** Metrics, live events and readiness. */
  observe: Observability;
  /** Emits the router's `admin` event. */
  audit: (event: AdminEvent) => void;
}

const internals = new WeakMap<object, RouterInternals>();

/** Records the internals of a router (called once, by `createRouter`). */
export function setRouterInternals(router: object, value: RouterInternals): void {
  internals.set(router, value);
}

/**
 * The internals of a router made by `createRouter`; `invalid_request` for anything else.
 *
 * @example
 * const { proxy } = routerInternals(router);
 */
export function routerInternals(router: object): RouterInternals {
  const value = internals.get(router);
  if (!value) throw new LlmlbError('invalid_request', 'not an llmlb router: create it with createRouter()');
  return value;
}
