/**
 * The storage adapter every SQL database shares: each contract method written once with kysely's
 * query builder, parameterised by a {@link SqlDialect} for what differs between databases.
 */
import type { Kysely } from 'kysely';
import type { AliasRecord } from '../../alias-schema.js';
import { LlmlbError } from '../../errors.js';
import type { DiscoveredModel, EndpointHealthCheck, EndpointModel, EndpointPatch, EndpointRecord, ModelSetDiff } from '../../schema.js';
import type { AliasPatch } from '../alias-storage.js';
import { conflictError, type UniqueField } from '../conflict.js';
import { DEFAULT_CHANGES_LIMIT, rowLimit } from '../limits.js';
import type { NodePatch, NodeRecord } from '../../nodes/schema.js';
import type { NodeWrite } from '../nodes.js';
import type { ChangeBatch, ChangeListener, HealthCheckPage, Lease, StorageAdapter } from '../types.js';
import * as aliases from './aliases.js';
import type { KeyPatch, KeyRecord, KeyUsageRange, KeyUsageRow } from '../key-types.js';
import type { SqlDialect } from './dialect.js';
import * as feed from './feed.js';
import * as keys from './keys.js';
import { migrateToLatest } from './migrations.js';
import { toKeyRecord } from './key-tables.js';
import { toEndpointModel, toEndpointRecord, toHealthCheck } from './rows.js';
import type { LlmlbDatabase } from './tables.js';
import * as writes from './writes.js';
import * as nodes from './nodes.js';

type Db = Kysely<LlmlbDatabase>;

/** The values a write tried for its unique fields, named in a `conflict`. */
type Attempted = Partial<Record<UniqueField, string>>;

/** JavaScript's string order (UTF-16 code units), which SQL collations need not follow. */
function byModelId(a: EndpointModel, b: EndpointModel): number {
  return a.model_id < b.model_id ? -1 : a.model_id > b.model_id ? 1 : 0;
}

/** `storage_unavailable`: the database cannot be reached (writes are refused, routing goes on). */
function unavailableError(kind: string, cause: unknown): LlmlbError {
  const message = `${kind} storage is unreachable: changes are refused until it is back (routing continues from memory)`;
  return new LlmlbError('storage_unavailable', message, { cause });
}

/**
 * {@link StorageAdapter} on a SQL database. Lazy: nothing is opened before `init()`, which is
 * idempotent. Operations before `init()` or after `close()` fail with `internal_error`;
 * `close()` waits for operations already running and destroys the database only if owned.
 *
 * @example
 * const storage: StorageAdapter = new SqlStorage(sqliteDialect(source));
 */
export class SqlStorage implements StorageAdapter {
  readonly kind: string;
  readonly shared: boolean;
  readonly watch: ((onChange: ChangeListener) => () => Promise<void>) | undefined;
  readonly #dialect: SqlDialect;
  #initPromise: Promise<void> | undefined;
  #closePromise: Promise<void> | undefined;
  #closed = false;
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #watches = new Set<() => Promise<void>>();

  constructor(dialect: SqlDialect) {
    this.#dialect = dialect;
    this.kind = dialect.kind;
    this.shared = dialect.shared ?? false;
    const watch = dialect.watch;
    this.watch = watch && ((onChange) => this.#watch(watch(onChange)));
  }

  /** Tracks a watch so that close() stops it before the database goes. */
  #watch(stop: () => Promise<void>): () => Promise<void> {
    const once = (): Promise<void> => {
      this.#watches.delete(once);
      return stop();
    };
    this.#watches.add(once);
    return once;
  }

  init(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    this.#initPromise ??= this.#migrate().catch((error: unknown) => {
      this.#initPromise = undefined;
      throw error;
    });
    return this.#initPromise;
  }

  async #migrate(): Promise<void> {
    const dialect = this.#dialect;
    try {
      await dialect.connect(dialect.db);
    } catch (error) {
      const where = dialect.location === undefined ? '' : ` ${JSON.stringify(dialect.location)}`;
      throw new LlmlbError('internal_error', `${this.kind} storage: cannot open database${where}`, { cause: error });
    }
    await migrateToLatest(dialect);
  }

  close(): Promise<void> {
    this.#closePromise ??= this.#shutdown();
    return this.#closePromise;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    await this.#initPromise?.catch(() => undefined);
    await Promise.allSettled([...this.#inFlight, ...[...this.#watches].map((stop) => stop())]);
    if (this.#dialect.owned) await this.#dialect.db.destroy();
  }

  #closedError(): LlmlbError {
    return new LlmlbError('internal_error', `${this.kind} storage: the storage is closed`);
  }

  /**
   * Runs one operation: checks the lifecycle, tracks it for close(), turns a unique violation
   * into `conflict` (naming the value `attempted` for the field) and anything else into
   * `internal_error`.
   */
  #op<T>(operation: string, fn: (db: Db) => Promise<T>, attempted: Attempted = {}): Promise<T> {
    const run = (async () => {
      if (this.#closed) throw this.#closedError();
      if (this.#initPromise === undefined) {
        throw new LlmlbError('internal_error', `${this.kind} storage: call init() before using the storage`);
      }
      // Operations called before close() run to completion: close() waits for them.
      await this.#initPromise;
      try {
        return await fn(this.#dialect.db);
      } catch (error) {
        if (error instanceof LlmlbError) throw error;
        const field = this.#dialect.uniqueViolation(error);
        if (field !== undefined) throw conflictError(field, attempted[field], error);
        if (this.#dialect.unreachable?.(error) === true) throw unavailableError(this.kind, error);
        throw new LlmlbError('internal_error', `${this.kind} storage: ${operation} failed`, { cause: error });
      }
    })();
    this.#inFlight.add(run);
    const forget = (): void => {
      this.#inFlight.delete(run);
    };
    run.then(forget, forget);
    return run;
  }

  /** {@link #op} in the dialect's write transaction. */
  #write<T>(operation: string, fn: (trx: Db) => Promise<T>, attempted?: Attempted): Promise<T> {
    return this.#op(operation, (db) => this.#dialect.transaction(db, fn), attempted);
  }

  insertEndpoint(record: EndpointRecord): Promise<void> {
    return this.#write('insertEndpoint', (trx) => writes.insertEndpoint(trx, { ...record }), record);
  }

  updateEndpoint(id: string, patch: EndpointPatch): Promise<EndpointRecord | undefined> {
    const copy = { ...patch };
    const write = async (trx: Db) => (await writes.updateEndpoint(trx, id, copy))?.record;
    return this.#write('updateEndpoint', write, { name: patch.name });
  }

  deleteEndpoint(id: string): Promise<boolean> {
    return this.#write('deleteEndpoint', (trx) => writes.deleteEndpoint(trx, id));
  }

  insertNode(endpoint: EndpointRecord, node: NodeRecord): Promise<void> {
    const [columns, copy] = [this.#dialect.columns, { ...endpoint }];
    return this.#write('insertNode', (trx) => nodes.insertNode(trx, columns, copy, node), endpoint);
  }

  updateNode(endpointId: string, patch: NodePatch, endpointPatch?: EndpointPatch): Promise<NodeWrite | undefined> {
    const [columns, copy] = [this.#dialect.columns, endpointPatch && { ...endpointPatch }];
    return this.#write('updateNode', (trx) => nodes.updateNode(trx, columns, endpointId, patch, copy), { name: endpointPatch?.name });
  }

  getNode(endpointId: string): Promise<NodeRecord | undefined> {
    return this.#op('getNode', (db) => nodes.getNode(db, endpointId));
  }

  listNodes(): Promise<NodeRecord[]> {
    return this.#op('listNodes', nodes.listNodes);
  }

  getEndpoint(id: string): Promise<EndpointRecord | undefined> {
    return this.#op('getEndpoint', async (db) => {
      const row = await db.selectFrom('endpoints').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toEndpointRecord(row);
    });
  }

  listEndpoints(): Promise<EndpointRecord[]> {
    return this.#op('listEndpoints', async (db) => {
      const rows = await db.selectFrom('endpoints').selectAll().orderBy('registered_at').orderBy('id').execute();
      // Same comparator as the memory adapter, whatever the database's collation.
      return rows
        .map(toEndpointRecord)
        .sort((a, b) => a.registered_at.localeCompare(b.registered_at) || a.id.localeCompare(b.id));
    });
  }

  replaceEndpointModels(
    endpointId: string,
    models: readonly DiscoveredModel[],
    checkedAt: string,
  ): Promise<ModelSetDiff | undefined> {
    const [columns, copy] = [this.#dialect.columns, models.map((m) => ({ ...m, capabilities: [...m.capabilities] }))];
    return this.#write('replaceEndpointModels', (trx) => writes.replaceEndpointModels(trx, columns, endpointId, copy, checkedAt));
  }

  listEndpointModels(endpointId: string): Promise<EndpointModel[]> {
    return this.#op('listEndpointModels', async (db) => {
      const rows = await db
        .selectFrom('endpoint_models')
        .selectAll()
        .where('endpoint_id', '=', endpointId)
        .orderBy('model_id')
        .execute();
      return rows.map(toEndpointModel).sort(byModelId);
    });
  }

  listAllModels(): Promise<EndpointModel[]> {
    return this.#op('listAllModels', async (db) => {
      const rows = await db.selectFrom('endpoint_models').selectAll().orderBy('endpoint_id').orderBy('model_id').execute();
      return rows.map(toEndpointModel);
    });
  }

  recordHealthCheck(
    endpointId: string,
    patch: EndpointPatch,
    check: EndpointHealthCheck,
  ): Promise<EndpointRecord | undefined> {
    const [columns, copy] = [this.#dialect.columns, { ...patch }];
    const write = (trx: Db) => writes.recordHealthCheck(trx, columns, endpointId, copy, { ...check });
    return this.#write('recordHealthCheck', write, { name: patch.name });
  }

  listHealthChecks(endpointId: string, page: HealthCheckPage = {}): Promise<EndpointHealthCheck[]> {
    return this.#op('listHealthChecks', async (db) => {
      let query = db.selectFrom('endpoint_health_checks').selectAll().where('endpoint_id', '=', endpointId);
      if (page.before !== undefined) query = query.where('checked_at', '<', page.before);
      // Equal times: the later write first (rows from before change_seq existed sort last).
      query = query.orderBy('checked_at', 'desc').orderBy('change_seq', (ob) => ob.desc().nullsLast());
      const limit = rowLimit(page.limit);
      const rows = await (limit === undefined ? query : query.limit(limit)).execute();
      return rows.map(toHealthCheck);
    });
  }

  deleteHealthChecksBefore(cutoff: string): Promise<number> {
    return this.#write('deleteHealthChecksBefore', async (trx) => {
      const result = await trx.deleteFrom('endpoint_health_checks').where('checked_at', '<', cutoff).executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }

  latestChange(): Promise<number> {
    return this.#op('latestChange', feed.latestChange);
  }

  changesSince(cursor: number, limit = DEFAULT_CHANGES_LIMIT): Promise<ChangeBatch> {
    return this.#op('changesSince', (db) => feed.changesSince(db, cursor, limit));
  }

  deleteChangesBefore(cutoff: string): Promise<number> {
    return this.#write('deleteChangesBefore', (trx) => feed.deleteChangesBefore(trx, cutoff));
  }

  tryLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    return this.#write('tryLease', (trx) => feed.tryLease(trx, name, holder, ttlMs, now));
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return this.#write('releaseLease', (trx) => feed.releaseLease(trx, name, holder));
  }

  renewLeases(holder: string, prefix: string, ttlMs: number, now: number): Promise<string[]> {
    return this.#write('renewLeases', (trx) => feed.renewLeases(trx, holder, prefix, ttlMs, now));
  }

  listLeases(prefix: string, now: number): Promise<Lease[]> {
    return this.#op('listLeases', (db) => feed.listLeases(db, prefix, now));
  }

  insertKey(record: KeyRecord): Promise<void> {
    const copy = { ...record, models: record.models && [...record.models] };
    return this.#write('insertKey', (trx) => keys.insertKey(trx, this.#dialect.columns, copy));
  }

  updateKey(id: string, patch: KeyPatch): Promise<KeyRecord | undefined> {
    const copy = { ...patch, models: patch.models && [...patch.models] };
    return this.#write('updateKey', (trx) => keys.updateKey(trx, this.#dialect.columns, id, copy));
  }

  consumeKey(id: string, at: string): Promise<boolean> {
    return this.#write('consumeKey', (trx) => keys.consumeKey(trx, this.#dialect.columns, id, at));
  }

  getKey(id: string): Promise<KeyRecord | undefined> {
    return this.#op('getKey', async (db) => {
      const row = await db.selectFrom('llmlb_keys').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toKeyRecord(row);
    });
  }

  listKeys(): Promise<KeyRecord[]> {
    return this.#op('listKeys', keys.listKeys);
  }

  deleteKeysRevokedBefore(cutoff: string): Promise<number> {
    return this.#write('deleteKeysRevokedBefore', (trx) => keys.deleteKeysRevokedBefore(trx, cutoff));
  }

  addKeyUsage(rows: readonly KeyUsageRow[]): Promise<void> {
    const copy = rows.map((row) => ({ ...row }));
    return this.#write('addKeyUsage', (trx) => keys.addKeyUsage(trx, copy));
  }

  listKeyUsage(keyId: string, range: KeyUsageRange): Promise<KeyUsageRow[]> {
    return this.#op('listKeyUsage', (db) => keys.listKeyUsage(db, keyId, { ...range }));
  }

  deleteKeyUsageBefore(cutoff: string): Promise<number> {
    return this.#write('deleteKeyUsageBefore', (trx) => keys.deleteKeyUsageBefore(trx, cutoff));
  }

  insertAlias(record: AliasRecord): Promise<void> {
    const copy = { ...record, targets: [...record.targets] };
    return this.#write('insertAlias', (trx) => aliases.insertAlias(trx, copy));
  }

  updateAlias(name: string, patch: AliasPatch): Promise<AliasRecord | undefined> {
    const copy = { ...patch, targets: [...patch.targets] };
    return this.#write('updateAlias', (trx) => aliases.updateAlias(trx, name, copy));
  }

  deleteAlias(name: string): Promise<boolean> {
    return this.#write('deleteAlias', (trx) => aliases.deleteAlias(trx, name));
  }

  getAlias(name: string): Promise<AliasRecord | undefined> {
    return this.#op('getAlias', (db) => aliases.getAlias(db, name));
  }

  listAliases(): Promise<AliasRecord[]> {
    return this.#op('listAliases', aliases.listAliases);
  }
}
