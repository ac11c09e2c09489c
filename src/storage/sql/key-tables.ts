/**
 * Kysely typings and row mapping of the key tables (migration `0007_keys`): `llmlb_keys` (one
 * row per runtime API key; `models` holds a JSON array of strings or null) and `llmlb_key_usage`
 * (one row per key, model and hour).
 */
import type { Insertable, Selectable } from 'kysely';
import type { Role } from '../../roles.js';
import type { KeyRecord, KeyUsageRow } from '../key-types.js';
import type { SqlColumnTypes } from './dialect.js';
import type { SqlBool, SqlInt } from './tables.js';

/**
 * The `llmlb_keys` table.
 *
 * @example
 * await db.selectFrom('llmlb_keys').selectAll().where('id', '=', id).executeTakeFirst();
 */
export interface KeysTable {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  digest: string;
  enabled: SqlBool;
  one_use: SqlBool;
  expires_at: string | null;
  rpm: SqlInt | null;
  max_concurrency: SqlInt | null;
  models: string | null;
  created_at: string;
  updated_at: string;
  consumed_at: string | null;
  revoked_at: string | null;
  version: SqlInt;
}

/**
 * The `llmlb_key_usage` table; the primary key is (`key_id`, `model`, `hour`).
 *
 * @example
 * await db.deleteFrom('llmlb_key_usage').where('hour', '<', cutoff).execute();
 */
export interface KeyUsageTable {
  key_id: string;
  model: string;
  hour: string;
  requests: SqlInt;
  errors: SqlInt;
  prompt_tokens: SqlInt;
  completion_tokens: SqlInt;
}

/** The key tables, part of `LlmlbDatabase`. */
export interface KeyTables {
  llmlb_keys: KeysTable;
  llmlb_key_usage: KeyUsageTable;
}

/** A boolean as the dialect stores it. */
function bool(value: boolean, columns: SqlColumnTypes): number | boolean {
  return columns.boolean === 'integer' ? Number(value) : value;
}

/** The `models` column of a model list. */
export function modelsColumn(models: readonly string[] | null): string | null {
  return models === null ? null : JSON.stringify(models);
}

/** The row of a key record (every column). */
export function toKeyRow(record: KeyRecord, columns: SqlColumnTypes): Insertable<KeysTable> {
  return {
    ...record,
    enabled: bool(record.enabled, columns),
    one_use: bool(record.one_use, columns),
    models: modelsColumn(record.models),
  };
}

/** The key record of a row. */
export function toKeyRecord(row: Selectable<KeysTable>): KeyRecord {
  const models: unknown = row.models === null ? null : JSON.parse(row.models);
  if (models !== null && (!Array.isArray(models) || !models.every((m) => typeof m === 'string'))) {
    throw new Error('llmlb_keys.models is not a JSON array of strings');
  }
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: row.prefix,
    digest: row.digest,
    enabled: Number(row.enabled) === 1,
    one_use: Number(row.one_use) === 1,
    expires_at: row.expires_at,
    rpm: row.rpm === null ? null : Number(row.rpm),
    max_concurrency: row.max_concurrency === null ? null : Number(row.max_concurrency),
    models,
    created_at: row.created_at,
    updated_at: row.updated_at,
    consumed_at: row.consumed_at,
    revoked_at: row.revoked_at,
    version: Number(row.version),
  };
}

/** The usage row of a table row. */
export function toKeyUsageRow(row: Selectable<KeyUsageTable>): KeyUsageRow {
  return {
    key_id: row.key_id,
    model: row.model,
    hour: row.hour,
    requests: Number(row.requests),
    errors: Number(row.errors),
    prompt_tokens: Number(row.prompt_tokens),
    completion_tokens: Number(row.completion_tokens),
  };
}
