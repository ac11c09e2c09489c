/**
 * Runtime API keys for one router: the directory (authentication by digest), the service
 * (`router.keys`), per-key limits on `/v1` and usage metering, wired together and following
 * other instances' key writes through the change feed.
 */
import type { Clock } from '../clock.js';
import { LlmlbError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RequestEvent } from '../proxy/options.js';
import type { Principal } from '../roles.js';
import type { StorageAdapter } from '../storage/types.js';
import type { EndpointStore } from '../store.js';
import { type ConfigKey, KeyDirectory } from './directory.js';
import { KeyLimiter } from './limiter.js';
import { KeyService } from './service.js';
import { UsageMeter } from './usage.js';

export type { ConfigKey } from './directory.js';

/** How often counted usage is written to storage. */
const FLUSH_INTERVAL_MS = 10_000;

/** What runtime keys work with. */
export interface RuntimeKeysDeps {
  storage: StorageAdapter;
  /** Its change feed brings other instances' key writes (`followRecords('key', …)`). */
  store: EndpointStore;
  clock: Clock;
  logger: Logger;
  /** The keys of the `auth` option (listed read-only). */
  configKeys: readonly ConfigKey[];
  /** Instances sharing each key's limits. */
  shares: () => number;
  assertStarted: () => void;
}

/** What `admit` returns for a caller without limits: releasing it does nothing. */
export const NOTHING_TO_RELEASE = (): void => {};

/**
 * The key machinery of a router. `service` is `router.keys`; the rest is what the HTTP layer
 * (authentication, `/v1` admission) and node registration need, through `routerInternals`.
 *
 * @example
 * const release = keys.admit(principal, 'llama3.1:8b');
 * try { await proxy.forward(…); } finally { release(); }
 */
export class RuntimeKeys {
  /** The programmatic API (`router.keys`). */
  readonly service: KeyService;
  readonly #directory: KeyDirectory;
  readonly #limiter: KeyLimiter;
  readonly #usage: UsageMeter;

  constructor(deps: RuntimeKeysDeps) {
    const directory = (this.#directory = new KeyDirectory(deps.configKeys, deps.clock));
    const limiter = (this.#limiter = new KeyLimiter({ clock: deps.clock, shares: deps.shares }));
    this.#usage = new UsageMeter({
      storage: deps.storage,
      clock: deps.clock,
      flushIntervalMs: FLUSH_INTERVAL_MS,
      onError: (err) => deps.logger.warn({ err }, 'llmlb: writing key usage failed; kept for the next attempt'),
    });
    this.service = new KeyService({
      storage: deps.storage,
      directory,
      usage: this.#usage,
      clock: deps.clock,
      logger: deps.logger,
      changed: (keyId) => {
        if (directory.entry(keyId)?.usable !== true) limiter.forget(keyId);
      },
      assertStarted: deps.assertStarted,
    });
    deps.store.followRecords('key', (id) => this.service.reload(id));
  }

  /** Loads the stored keys (before the router serves anything); returns how many. */
  load(): Promise<number> {
    return this.service.load();
  }

  /** Starts flushing usage. */
  start(): void {
    this.#usage.start();
  }

  /** Flushes usage one last time. */
  stop(): Promise<void> {
    return this.#usage.stop();
  }

  /** The principal of a key's SHA-256 digest if the key works now (no storage access), else null. */
  resolve(digest: string): Readonly<Principal> | null {
    return this.#directory.resolve(digest);
  }

  /**
   * Admits one `/v1` request of `principal` for `model`: `model_not_found` when the key may not
   * use the model, `rate_limited` (429, Retry-After) at a limit (the proxy answers and reports a
   * refusal like any request, so it counts in the key's usage as an error). Returns the function
   * that frees the request's slot.
   */
  admit(principal: Principal | null, model: string): () => void {
    const keyId = principal?.keyId;
    const entry = keyId === undefined ? undefined : this.#directory.entry(keyId);
    if (keyId === undefined || !entry?.record) return NOTHING_TO_RELEASE;
    if (entry.models && !entry.models.has(model)) {
      throw new LlmlbError('model_not_found', `model ${JSON.stringify(model)} does not exist or this key may not use it`);
    }
    return this.#limiter.admit(keyId, entry.record);
  }

  /** Whether `principal` may use `model` (keys with a model list see only those models). */
  allows(principal: Principal | null, model: string): boolean {
    const keyId = principal?.keyId;
    const models = keyId === undefined ? null : this.#directory.entry(keyId)?.models;
    return !models || models.has(model);
  }

  /**
   * Consumes a one-use `node` key (a registration token): the node routes call it once a
   * registration with the key succeeded. Resolves true (the key was consumed now, or is reusable
   * or configured); rejects `unauthorized` when another registration used it first, `not_found`
   * for an unknown key.
   */
  consume(keyId: string): Promise<boolean> {
    return this.service.consume(keyId);
  }

  /** Counts a finished proxied request in its key's usage. */
  recordRequest(event: RequestEvent): void {
    if (event.key_id === null || event.model === null) return;
    this.#usage.record({
      keyId: event.key_id,
      model: event.model,
      error: event.error !== null || event.status >= 400,
      promptTokens: event.usage?.prompt_tokens ?? 0,
      completionTokens: event.usage?.completion_tokens ?? 0,
    });
  }
}
