/**
 * Kysely table typings of the SQLite schema (migration `0001_initial`). Internal to the SQLite
 * adapter: rows are converted to the domain types of `../../schema.js` before they leave it.
 *
 * Integer columns read back as `number | bigint` because a caller-provided better-sqlite3
 * database may have `safeIntegers` enabled; the adapter normalises them with `Number()`.
 */
import type { ColumnType } from 'kysely';
import type { EndpointStatus } from '../../schema.js';

/**
 * An INTEGER column: written as a number, read as a number (or a bigint under `safeIntegers`).
 *
 * @example
 * interface T { error_count: SqliteInt }
 */
export type SqliteInt = ColumnType<number | bigint, number, number>;

/**
 * The `endpoints` table: one row per registered endpoint.
 *
 * @example
 * const row = await db.selectFrom('endpoints').selectAll().where('id', '=', id).executeTakeFirst();
 */
export interface EndpointsTable {
  id: string;
  name: string;
  base_url: string;
  api_key_encrypted: string | null;
  status: EndpointStatus;
  health_check_interval_secs: SqliteInt;
  inference_timeout_secs: SqliteInt;
  latency_ms: SqliteInt | null;
  last_seen: string | null;
  last_error: string | null;
  error_count: SqliteInt;
  registered_at: string;
  updated_at: string;
  notes: string | null;
}

/**
 * The `endpoint_models` table; `capabilities` holds a JSON array of strings.
 *
 * @example
 * await db.selectFrom('endpoint_models').select('model_id').where('endpoint_id', '=', id).execute();
 */
export interface EndpointModelsTable {
  endpoint_id: string;
  model_id: string;
  capabilities: string;
  last_checked: string;
}

/**
 * The `endpoint_health_checks` table; `success` is 0 or 1.
 *
 * @example
 * await db.deleteFrom('endpoint_health_checks').where('checked_at', '<', cutoff).execute();
 */
export interface EndpointHealthChecksTable {
  id: string;
  endpoint_id: string;
  checked_at: string;
  success: SqliteInt;
  latency_ms: SqliteInt | null;
  error_message: string | null;
  status_before: EndpointStatus;
  status_after: EndpointStatus;
}

/**
 * Every table llmlb owns in the database.
 *
 * @example
 * const db = new Kysely<LlmlbDatabase>({ dialect: new SqliteDialect({ database }) });
 */
export interface LlmlbDatabase {
  endpoints: EndpointsTable;
  endpoint_models: EndpointModelsTable;
  endpoint_health_checks: EndpointHealthChecksTable;
}
