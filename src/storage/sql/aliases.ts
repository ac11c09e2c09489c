/**
 * Model aliases in every SQL database: the `model_aliases` rows, each write with its `alias`
 * change-feed entry in the same transaction (run these inside the dialect's write transaction).
 */
import { type Kysely, type Selectable, sql } from 'kysely';
import type { AliasRecord } from '../../alias-schema.js';
import type { AliasPatch } from '../alias-storage.js';
import { aliasConflictError } from '../conflict.js';
import { appendChange } from './feed.js';
import type { LlmlbDatabase, ModelAliasesTable } from './tables.js';

type Db = Kysely<LlmlbDatabase>;

/** The alias of a row. */
function toAliasRecord(row: Selectable<ModelAliasesTable>): AliasRecord {
  const targets: unknown = JSON.parse(row.targets);
  if (!Array.isArray(targets) || !targets.every((t): t is string => typeof t === 'string')) {
    throw new Error('model_aliases.targets is not a JSON array of strings');
  }
  return { name: row.name, targets, created_at: row.created_at, updated_at: row.updated_at, version: Number(row.version) };
}

/**
 * Inserts an alias and records the change; `conflict` (writing nothing) when the name is taken.
 *
 * @example
 * await dialect.transaction(db, (trx) => insertAlias(trx, record));
 */
export async function insertAlias(trx: Db, record: AliasRecord): Promise<void> {
  const row = { ...record, targets: JSON.stringify(record.targets) };
  const result = await trx
    .insertInto('model_aliases')
    .values(row)
    .onConflict((oc) => oc.column('name').doNothing())
    .executeTakeFirst();
  if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) throw aliasConflictError(record.name);
  await appendChange(trx, record.name, 'alias');
}

/** Applies `patch`, raises the version and records the change; `undefined` when there is no such alias. */
export async function updateAlias(trx: Db, name: string, patch: AliasPatch): Promise<AliasRecord | undefined> {
  const row = await trx
    .updateTable('model_aliases')
    .set({ targets: JSON.stringify(patch.targets), updated_at: patch.updated_at, version: sql<number>`version + 1` })
    .where('name', '=', name)
    .returningAll()
    .executeTakeFirst();
  if (!row) return undefined;
  await appendChange(trx, name, 'alias');
  return toAliasRecord(row);
}

/** Deletes an alias and records the change; false when there was none. */
export async function deleteAlias(trx: Db, name: string): Promise<boolean> {
  const result = await trx.deleteFrom('model_aliases').where('name', '=', name).executeTakeFirst();
  if (result.numDeletedRows === 0n) return false;
  await appendChange(trx, name, 'alias');
  return true;
}

/** One alias, or `undefined`. */
export async function getAlias(db: Db, name: string): Promise<AliasRecord | undefined> {
  const row = await db.selectFrom('model_aliases').selectAll().where('name', '=', name).executeTakeFirst();
  return row && toAliasRecord(row);
}

/** Every alias, in JavaScript string order whatever the database's collation. */
export async function listAliases(db: Db): Promise<AliasRecord[]> {
  const rows = await db.selectFrom('model_aliases').selectAll().execute();
  return rows.map(toAliasRecord).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
