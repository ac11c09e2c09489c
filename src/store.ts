/**
 * The endpoint store: the one writer of storage and of the in-memory registry. Every change to an
 * endpoint — an admin write, a recorded check, a new model set, a change read from the storage's
 * change feed (another instance's write) — goes through it, lands in storage first, then in the
 * registry, and is announced as a typed event that the scheduler, passive health, live stats
 * and the public checker events subscribe to.
 */
import { EventEmitter } from 'eventemitter3';
import { endpointNotFound } from './errors.js';
import { Registry, type RegistryView } from './registry.js';
import type {
  DiscoveredModel,
  EndpointHealthCheck,
  EndpointModel,
  EndpointPatch,
  EndpointRecord,
  EndpointStatus,
  ModelSetDiff,
} from './schema.js';
import { completeModel } from './storage/models-diff.js';
import type { ChangeKind, HealthCheckPage, StorageAdapter } from './storage/types.js';

/** Change-feed kinds of records other than endpoints, each applied by the module that owns them. */
export type RecordKind = Exclude<ChangeKind, 'endpoint' | 'models' | 'deleted'>;

/**
 * Re-reads one record of a {@link RecordKind} from storage after the change feed said another
 * instance wrote or removed it, and applies it to its owner's in-memory state.
 */
export type RecordReloader = (subjectId: string) => Promise<void>;

/** Payload of `endpointChanged`: the stored record after the write and the one before it. */
export interface EndpointChange {
  endpoint: EndpointRecord;
  previous: EndpointRecord;
}

/** Payload of `statusChanged`. */
export interface StatusTransition {
  endpoint: EndpointRecord;
  from: EndpointStatus;
  to: EndpointStatus;
}

/** Payload of `modelsChanged`: an endpoint's model set was replaced (possibly by the same set). */
export interface ModelsChange {
  endpoint: EndpointRecord;
  diff: ModelSetDiff;
}

/** Typed events of the {@link EndpointStore}. Payloads are internal records (they carry the sealed key). */
export interface StoreEvents {
  endpointAdded: (endpoint: EndpointRecord) => void;
  endpointChanged: (change: EndpointChange) => void;
  endpointRemoved: (endpoint: EndpointRecord) => void;
  modelsChanged: (change: ModelsChange) => void;
  statusChanged: (transition: StatusTransition) => void;
}

/**
 * Writes endpoints, checks and models through storage into the registry, and tells subscribers.
 *
 * @example
 * const store = new EndpointStore(storage);
 * await store.load();
 * store.on('statusChanged', ({ endpoint, from, to }) => log.info({ id: endpoint.id, from, to }));
 */
export class EndpointStore extends EventEmitter<StoreEvents> {
  readonly #storage: StorageAdapter;
  readonly #registry = new Registry();
  /** Position in the storage's change feed up to which the registry is current. */
  #cursor = 0;
  readonly #reloaders = new Map<RecordKind, RecordReloader>();

  constructor(storage: StorageAdapter) {
    super();
    this.#storage = storage;
  }

  /** The in-memory view, read-only. */
  get registry(): RegistryView {
    return this.#registry;
  }

  /** Fills the registry from storage (the change-feed position is read first, so nothing is missed). */
  async load(): Promise<{ endpoints: number; models: number }> {
    this.#cursor = await this.#storage.latestChange();
    const [endpoints, models] = await Promise.all([this.#storage.listEndpoints(), this.#storage.listAllModels()]);
    this.#registry.load(endpoints, models);
    return { endpoints: endpoints.length, models: models.length };
  }

  /**
   * Stores a new endpoint; `conflict` when its name or base_url is taken. `insert` is the storage
   * write, by default the endpoint alone; a module whose records come with the endpoint (a node's
   * details) passes a write that stores both in one transaction.
   */
  async create(record: EndpointRecord, insert = (r: EndpointRecord) => this.#storage.insertEndpoint(r)): Promise<EndpointRecord> {
    await insert(record);
    this.#registry.upsertEndpoint(record);
    this.emit('endpointAdded', record);
    return record;
  }

  /** Applies an admin patch; `not_found` when the endpoint is gone. */
  update(id: string, patch: EndpointPatch): Promise<EndpointRecord> {
    return this.applyWrite(id, () => this.#storage.updateEndpoint(id, patch));
  }

  /**
   * Applies the endpoint record a combined storage write returned (a module's own records written
   * in one transaction with the endpoint row, e.g. a node's approval); `not_found` when it wrote
   * nothing because the endpoint is gone.
   */
  async applyWrite(id: string, write: () => Promise<EndpointRecord | undefined>): Promise<EndpointRecord> {
    const record = await write();
    if (!record) throw endpointNotFound(id);
    this.#apply(record);
    return record;
  }

  /** Deletes an endpoint with its models and history; false when there was none. */
  async remove(id: string): Promise<boolean> {
    const existed = await this.#storage.deleteEndpoint(id);
    this.#forget(id);
    return existed;
  }

  /**
   * Records a check: the endpoint's new health fields and one history row, atomically. Returns
   * the stored record, or undefined when the endpoint was deleted meanwhile.
   */
  async recordCheck(id: string, patch: EndpointPatch, check: EndpointHealthCheck): Promise<EndpointRecord | undefined> {
    const record = await this.#storage.recordHealthCheck(id, patch, check);
    if (record) this.#apply(record);
    return record;
  }

  /** Makes `models` an endpoint's model set; undefined when the endpoint is gone. */
  async replaceModels(id: string, models: readonly DiscoveredModel[], checkedAt: string): Promise<ModelSetDiff | undefined> {
    const diff = await this.#storage.replaceEndpointModels(id, models, checkedAt);
    const endpoint = this.#registry.getEndpoint(id);
    if (!diff || !endpoint) return undefined;
    const rows: EndpointModel[] = models.map((m) => ({ ...completeModel(m), endpoint_id: id, last_checked: checkedAt }));
    this.#registry.setModels(id, rows);
    this.emit('modelsChanged', { endpoint, diff });
    return diff;
  }

  /** One page of an endpoint's health-check history, newest first. */
  healthChecks(id: string, page: HealthCheckPage): Promise<EndpointHealthCheck[]> {
    return this.#storage.listHealthChecks(id, page);
  }

  /**
   * Makes `reload` the reader of feed changes of `kind` (one per kind), so that records other
   * than endpoints (keys, aliases, nodes) follow other instances' writes with the same cursor.
   */
  followRecords(kind: RecordKind, reload: RecordReloader): void {
    this.#reloaders.set(kind, reload);
  }

  /**
   * Applies the writes other instances made to the same storage since the last call, from the
   * storage's change feed: changed endpoints and model sets are re-read, deleted ones dropped;
   * changes of other records go to their {@link followRecords} reader. Returns how many changes
   * were read.
   */
  async catchUp(): Promise<number> {
    let read = 0;
    for (;;) {
      const batch = await this.#storage.changesSince(this.#cursor);
      for (const change of batch.changes) {
        if (change.kind === 'deleted') this.#forget(change.subject_id);
        else if (change.kind === 'endpoint') await this.#reloadEndpoint(change.subject_id);
        else if (change.kind === 'models') await this.#reloadModels(change.subject_id);
        else await this.#reloaders.get(change.kind)?.(change.subject_id);
      }
      this.#cursor = batch.cursor;
      read += batch.changes.length;
      if (batch.changes.length === 0) return read;
    }
  }

  async #reloadEndpoint(id: string): Promise<void> {
    const record = await this.#storage.getEndpoint(id);
    if (!record) return this.#forget(id);
    if (this.#registry.getEndpoint(id)) this.#apply(record);
    else if (this.#registry.upsertEndpoint(record)) this.emit('endpointAdded', record);
  }

  async #reloadModels(id: string): Promise<void> {
    const endpoint = this.#registry.getEndpoint(id);
    if (!endpoint) return;
    const before = new Set(this.#registry.modelsOf(id).map((m) => m.model_id));
    const models = await this.#storage.listEndpointModels(id);
    // Our own write read back from the feed changes nothing: nothing to announce.
    if (!this.#registry.setModels(id, models)) return;
    const after = new Set(models.map((m) => m.model_id));
    const diff: ModelSetDiff = {
      added: [...after].filter((m) => !before.has(m)),
      removed: [...before].filter((m) => !after.has(m)),
      updated: [...after].filter((m) => before.has(m)),
    };
    this.emit('modelsChanged', { endpoint, diff });
  }

  /** Puts a newer record of a known endpoint in the registry and announces the change. */
  #apply(record: EndpointRecord): void {
    const previous = this.#registry.getEndpoint(record.id);
    // Same or older version: already applied (our own write read back from the feed) or stale.
    if (!previous || previous.version >= record.version) return;
    this.#registry.upsertEndpoint(record);
    this.emit('endpointChanged', { endpoint: record, previous });
    if (previous.status !== record.status) this.emit('statusChanged', { endpoint: record, from: previous.status, to: record.status });
  }

  #forget(id: string): void {
    const endpoint = this.#registry.getEndpoint(id);
    if (!endpoint) return;
    this.#registry.removeEndpoint(id);
    this.emit('endpointRemoved', endpoint);
  }
}
