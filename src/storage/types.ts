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
  ModelSetDiff,
} from '../schema.js';
import type { AliasStorage } from './alias-storage.js';
import type { KeyStorage } from './key-types.js';
import type { NodeStorage } from './nodes.js';

/**
 * What changed in one write, as recorded in the change feed: an endpoint's row (`endpoint`), its
 * model set (`models`) or its removal (`deleted`); or a record of another kind, named by its id
 * (`key`: an API key, `alias`: a model alias, `node`: a self-registered node's details), whose
 * readers re-read it and drop it when it is gone.
 */
export type ChangeKind = 'endpoint' | 'models' | 'deleted' | 'key' | 'alias' | 'node';

/** Every change kind, in declaration order; the type makes this list exhaustive. */
export const CHANGE_KINDS: readonly ChangeKind[] = Object.freeze(
  Object.keys({ endpoint: true, models: true, deleted: true, key: true, alias: true, node: true } satisfies Record<ChangeKind, true>) as ChangeKind[],
);

/**
 * One entry of the change feed: record `subject_id` of `kind` was written or removed (for
 * `endpoint`, `models` and `deleted`, the subject is an endpoint). Readers re-read what changed.
 */
export interface StorageChange {
  /** Position in the feed: strictly increasing, never reused. */
  seq: number;
  /** Id of the record that changed: an endpoint id, key id, alias name or node's endpoint id. */
  subject_id: string;
  kind: ChangeKind;
}

/** A page of the change feed: the changes after a cursor, and the cursor to ask from next. */
export interface ChangeBatch {
  changes: StorageChange[];
  /** The `seq` of the last change returned, or the cursor asked with when there was none. */
  cursor: number;
}

/** A lease as {@link StorageAdapter.listLeases} returns it. */
export interface Lease {
  name: string;
  holder: string;
  /** Epoch ms at which the lease expires. */
  expires_at: number;
}

/**
 * Called by {@link StorageAdapter.watch} when the change feed may have moved: after another
 * writer's commit, and after the watch (re)connects (notifications may have been missed).
 * Readers catch up from their cursor; a call carries no data and may be spurious.
 */
export type ChangeListener = () => void;

/** Pagination of {@link StorageAdapter.listHealthChecks}. */
export interface HealthCheckPage {
  /** Most rows to return (default: all). */
  limit?: number;
  /** Only rows checked strictly before this ISO-8601 time (the `checked_at` of the last row of the previous page). */
  before?: string;
}

/**
 * Where llmlb keeps endpoints, their models, the health-check history, model aliases (the
 * {@link AliasStorage} part), runtime API keys with their usage (the {@link KeyStorage} part), a
 * change feed and leases.
 *
 * Uniqueness of `name` and `base_url` is the adapter's job and must hold under concurrency:
 * a violating insert or update rejects with `LlmlbError('conflict')` whose message names the
 * field (`name` or `base_url`).
 *
 * Every write of an endpoint row (insert, update, check) raises its `version` by one and appends
 * an `endpoint` entry to the change feed in the same transaction; a model set that changed
 * appends a `models` entry, a delete a `deleted` entry. Self-registered nodes' details are kept
 * through {@link NodeStorage}.
 *
 * @example
 * const storage: StorageAdapter = sqliteStorage({ filename: './llmlb.db' });
 * await storage.init();
 */
export interface StorageAdapter extends AliasStorage, KeyStorage, NodeStorage {
  /** Short name of the adapter, for logs (`"memory"`, `"sqlite"`, `"postgres"`). */
  readonly kind: string;
  /**
   * True when several routers are expected to share the data (PostgreSQL): routers then follow
   * the change feed and elect one checker per endpoint through leases. Default: false.
   */
  readonly shared?: boolean;
  /**
   * Optional push for the change feed: calls `onChange` soon after any writer commits a change
   * (PostgreSQL: `LISTEN/NOTIFY`), and after reconnecting. Returns a function that stops
   * watching. Adapters without it are polled.
   */
  watch?(onChange: ChangeListener): () => Promise<void>;
  /** Prepares the store (creates or migrates the schema). Safe to call again. */
  init(): Promise<void>;
  /** Releases resources the adapter owns. Idempotent. */
  close(): Promise<void>;

  /** Inserts a new endpoint (its `version` is stored as given, normally 1); `conflict` if its name or base_url is taken. */
  insertEndpoint(record: EndpointRecord): Promise<void>;
  /**
   * Applies `patch` to an endpoint, raises its version, and returns the stored result, or
   * `undefined` if there is no such endpoint; `conflict` if the new name is taken.
   */
  updateEndpoint(id: string, patch: EndpointPatch): Promise<EndpointRecord | undefined>;
  /** Deletes an endpoint with its models and history; false if it did not exist. */
  deleteEndpoint(id: string): Promise<boolean>;
  /** One endpoint, or `undefined`. */
  getEndpoint(id: string): Promise<EndpointRecord | undefined>;
  /** Every endpoint, oldest registration first. */
  listEndpoints(): Promise<EndpointRecord[]>;

  /**
   * Makes `models` the endpoint's model set: models not in it are removed, new ones added,
   * the others updated (capabilities, metadata and `last_checked`; metadata a model leaves out is
   * stored as unknown, its capabilities as guessed by name). Returns the diff, or `undefined` if
   * the endpoint does not exist. Atomic. Rows whose capabilities and metadata did not change are
   * only touched for `last_checked`; a `models` change is recorded only when the set, a
   * capability or a model's metadata changed (a routine sync adds nothing to the feed).
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
   * Records a health check atomically: applies `patch` to the endpoint (raising its version) and
   * appends `check` to its history. Returns the updated endpoint, or `undefined` (and writes
   * nothing) if the endpoint no longer exists.
   */
  recordHealthCheck(
    endpointId: string,
    patch: EndpointPatch,
    check: EndpointHealthCheck,
  ): Promise<EndpointRecord | undefined>;
  /** History rows of one endpoint, newest first (equal times: latest recorded first), paginated. */
  listHealthChecks(endpointId: string, page?: HealthCheckPage): Promise<EndpointHealthCheck[]>;
  /** Deletes history rows checked strictly before `cutoff` (ISO-8601); returns how many. */
  deleteHealthChecksBefore(cutoff: string): Promise<number>;

  /** The newest position of the change feed (0 when empty): read it before loading a snapshot. */
  latestChange(): Promise<number>;
  /** The changes after `cursor`, oldest first, at most `limit` (default 1000). */
  changesSince(cursor: number, limit?: number): Promise<ChangeBatch>;
  /** Deletes change-feed entries recorded strictly before `cutoff` (ISO-8601); returns how many. */
  deleteChangesBefore(cutoff: string): Promise<number>;

  /**
   * Takes or renews the lease `name` for `holder` until `now + ttlMs` (epoch ms). Succeeds when
   * the lease is free, expired (its expiry ≤ `now`) or already held by `holder`; false when
   * another holder has it. Atomic: of two racing holders, at most one wins.
   */
  tryLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
  /** Gives the lease up if `holder` holds it (no-op otherwise). */
  releaseLease(name: string, holder: string): Promise<void>;
  /**
   * Extends every lease of `holder` whose name starts with `prefix` and that has not expired
   * (its expiry > `now`) to `now + ttlMs`, in one atomic write; returns the names renewed.
   */
  renewLeases(holder: string, prefix: string, ttlMs: number, now: number): Promise<string[]>;
  /** The leases whose name starts with `prefix` (case-sensitive) and that have not expired at `now`, by name. */
  listLeases(prefix: string, now: number): Promise<Lease[]>;
}
