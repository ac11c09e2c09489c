/**
 * Kysely table typings of llmlb's SQL schema (migrations `0001_initial` to `0006_aliases`).
 * Internal to the SQL adapters: rows are converted to the domain types of `../../schema.js`
 * before they leave them.
 *
 * Integer columns read back as `number | bigint | string`: a caller-provided better-sqlite3
 * database may have `safeIntegers` enabled, and PostgreSQL's driver returns `bigint` columns as
 * strings. The row mapping normalises them with `Number()`.
 */
import type { ColumnType } from 'kysely';
import type { NodeRecord } from '../../nodes/schema.js';
import type { EndpointHealthCheck, EndpointModel, EndpointRecord } from '../../schema.js';
import type { ChangeKind } from '../types.js';
import type { KeyTables } from './key-tables.js';

/**
 * An integer column: written as a number, read as a number, a bigint or a numeric string.
 *
 * @example
 * interface T { error_count: SqlInt }
 */
export type SqlInt = ColumnType<number | bigint | string, number, number>;

/**
 * A true/false column: `0`/`1` where the database has no boolean type, a boolean elsewhere.
 *
 * @example
 * interface T { success: SqlBool }
 */
export type SqlBool = ColumnType<number | bigint | boolean, number | boolean, number | boolean>;

/** Fields of an endpoint stored as integers. */
type EndpointIntField = 'health_check_interval_secs' | 'inference_timeout_secs' | 'error_count' | 'version' | 'priority';

/**
 * The `endpoints` table: one row per registered endpoint, a column per record field.
 *
 * @example
 * const row = await db.selectFrom('endpoints').selectAll().where('id', '=', id).executeTakeFirst();
 */
export type EndpointsTable = Omit<EndpointRecord, EndpointIntField | 'latency_ms' | 'max_concurrency' | 'static_models'> &
  Record<EndpointIntField, SqlInt> & { latency_ms: SqlInt | null; max_concurrency: SqlInt | null; static_models: string | null };

/**
 * The `endpoint_models` table; `capabilities` holds a JSON array of strings.
 *
 * @example
 * await db.selectFrom('endpoint_models').select('model_id').where('endpoint_id', '=', id).execute();
 */
export type EndpointModelsTable = Omit<EndpointModel, 'capabilities' | 'context_length' | 'loaded' | 'size_bytes'> & {
  capabilities: string;
  context_length: SqlInt | null;
  loaded: SqlBool | null;
  size_bytes: SqlInt | null;
};

/**
 * The `endpoint_health_checks` table. `change_seq` is the change-feed position of the write that
 * recorded the row (null for rows recorded before `0002_fleet`): it orders equal `checked_at`s.
 *
 * @example
 * await db.deleteFrom('endpoint_health_checks').where('checked_at', '<', cutoff).execute();
 */
export type EndpointHealthChecksTable = Omit<EndpointHealthCheck, 'success' | 'latency_ms'> & {
  success: SqlBool;
  latency_ms: SqlInt | null;
  change_seq: SqlInt | null;
};

/**
 * The `llmlb_changes` table: the change feed. `seq` is assigned by the database and never reused.
 *
 * @example
 * await db.selectFrom('llmlb_changes').selectAll().where('seq', '>', cursor).execute();
 */
export interface ChangesTable {
  seq: ColumnType<number | bigint | string, never, never>;
  subject_id: string;
  kind: ChangeKind;
  changed_at: string;
}

/**
 * The `llmlb_leases` table: one row per lease name; `expires_at` in epoch milliseconds.
 *
 * @example
 * await db.deleteFrom('llmlb_leases').where('name', '=', name).where('holder', '=', holder).execute();
 */
export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: SqlInt;
}

/**
 * The `model_aliases` table (`0006_aliases`): one row per alias; `targets` holds a JSON array of
 * model ids.
 *
 * @example
 * await db.selectFrom('model_aliases').selectAll().where('name', '=', name).executeTakeFirst();
 */
export interface ModelAliasesTable {
  name: string;
  targets: string;
  created_at: string;
  updated_at: string;
  version: SqlInt;
}

/**
 * The `nodes` table (`0008_nodes`): a self-registered node's details, keyed by its endpoint's id
 * (deleted with it); `gpus` and `labels` hold JSON, `rotate_token` the dialect's booleans.
 *
 * @example
 * await db.selectFrom('nodes').selectAll().where('endpoint_id', '=', id).executeTakeFirst();
 */
export type NodesTable = Omit<NodeRecord, 'gpus' | 'labels' | 'rotate_token'> & { gpus: string; labels: string; rotate_token: SqlBool };

/**
 * Every table llmlb owns in the database (the key tables of `0007_keys` in `./key-tables.ts`).
 *
 * @example
 * const db = new Kysely<LlmlbDatabase>({ dialect: new SqliteDialect({ database }) });
 */
export interface LlmlbDatabase extends KeyTables {
  endpoints: EndpointsTable;
  endpoint_models: EndpointModelsTable;
  endpoint_health_checks: EndpointHealthChecksTable;
  llmlb_changes: ChangesTable;
  llmlb_leases: LeasesTable;
  model_aliases: ModelAliasesTable;
  nodes: NodesTable;
}
