/**
 * The storage contract every adapter implements. Adapters are plain persistence: validation,
 * encryption and status rules live above them. All methods are async; records passed in and
 * returned are copies (mutating them never changes stored data).
 */
import type {
  DiscoveredModel,
  EndpointHealthCheck,
  EndpointModel,
  EndpointPatch,
  EndpointRecord,
  EndpointStatus,
  ModelSetDiff,
} from '../schema.js';

/** Filter for {@link StorageAdapter.listEndpoints}. */
export interface EndpointFilter {
  status?: EndpointStatus;
}

/**
 * Where llmlb keeps endpoints, their models and the health-check history.
 *
 * Uniqueness of `name` and `base_url` is the adapter's job and must hold under concurrency:
 * a violating insert or update rejects with `LlmlbError('conflict')`.
 *
 * @example
 * const storage: StorageAdapter = sqliteStorage({ filename: './llmlb.db' });
 * await storage.init();
 */
export interface StorageAdapter {
  /** Short name of the adapter, for logs (`"memory"`, `"sqlite"`). */
  readonly kind: string;
  /** Prepares the store (creates or migrates the schema). Safe to call again. */
  init(): Promise<void>;
  /** Releases resources the adapter owns. Idempotent. */
  close(): Promise<void>;

  /** Inserts a new endpoint; `conflict` if its name or base_url is taken. */
  insertEndpoint(record: EndpointRecord): Promise<void>;
  /**
   * Applies `patch` to an endpoint and returns the stored result, or `undefined` if there is
   * no such endpoint; `conflict` if the new name is taken.
   */
  updateEndpoint(id: string, patch: EndpointPatch): Promise<EndpointRecord | undefined>;
  /** Deletes an endpoint with its models and history; false if it did not exist. */
  deleteEndpoint(id: string): Promise<boolean>;
  /** One endpoint, or `undefined`. */
  getEndpoint(id: string): Promise<EndpointRecord | undefined>;
  /** Every endpoint matching `filter`, oldest registration first. */
  listEndpoints(filter?: EndpointFilter): Promise<EndpointRecord[]>;

  /**
   * Makes `models` the endpoint's model set: models not in it are removed, new ones added,
   * the others updated (capabilities and `last_checked`). Returns the diff, or `undefined` if
   * the endpoint does not exist. Atomic.
   */
  replaceEndpointModels(
    endpointId: string,
    models: readonly DiscoveredModel[],
    checkedAt: string,
  ): Promise<ModelSetDiff | undefined>;
  /** The models of one endpoint, ordered by model id. */
  listEndpointModels(endpointId: string): Promise<EndpointModel[]>;
  /** Every stored model of every endpoint. */
  listAllModels(): Promise<EndpointModel[]>;

  /**
   * Records a health check atomically: applies `patch` to the endpoint and appends `check` to
   * its history. Returns the updated endpoint, or `undefined` (and writes nothing) if the
   * endpoint no longer exists.
   */
  recordHealthCheck(
    endpointId: string,
    patch: EndpointPatch,
    check: EndpointHealthCheck,
  ): Promise<EndpointRecord | undefined>;
  /** The most recent history rows of one endpoint, newest first. */
  listHealthChecks(endpointId: string, options?: { limit?: number }): Promise<EndpointHealthCheck[]>;
  /** Deletes history rows checked strictly before `cutoff` (ISO-8601); returns how many. */
  deleteHealthChecksBefore(cutoff: string): Promise<number>;
}
