/**
 * The key and usage queries of the generic SQL storage. Key writes run in the dialect's write
 * transaction and append a `key` change, so the row, its version and its feed entry commit
 * together.
 */
import { sql, type Kysely, type Updateable } from 'kysely';
import { LlmlbError } from '../../errors.js';
import { byHourThenModel, keyPatchFields } from '../key-patch.js';
import type { KeyPatch, KeyRecord, KeyUsageRange, KeyUsageRow } from '../key-types.js';
import type { SqlColumnTypes } from './dialect.js';
import { appendChange } from './feed.js';
import { type KeysTable, modelsColumn, toKeyRecord, toKeyRow, toKeyUsageRow } from './key-tables.js';
import type { LlmlbDatabase } from './tables.js';

type Db = Kysely<LlmlbDatabase>;

/** Inserts a key and records the change; `conflict` when its id is taken. */
export async function insertKey(trx: Db, columns: SqlColumnTypes, record: KeyRecord): Promise<void> {
  const taken = await trx.selectFrom('llmlb_keys').select('id').where('id', '=', record.id).executeTakeFirst();
  if (taken) throw new LlmlbError('conflict', `a key with id ${record.id} already exists`);
  await trx.insertInto('llmlb_keys').values(toKeyRow(record, columns)).execute();
  await appendChange(trx, record.id, 'key');
}

/** Applies a patch, raises the version and records the change; `undefined` without such a key. */
export async function updateKey(trx: Db, columns: SqlColumnTypes, id: string, patch: KeyPatch): Promise<KeyRecord | undefined> {
  const { enabled, models, ...rest } = keyPatchFields(patch);
  const fields: Updateable<KeysTable> = { ...rest };
  if (enabled !== undefined) fields.enabled = columns.boolean === 'integer' ? Number(enabled) : enabled;
  if (models !== undefined) fields.models = modelsColumn(models);
  const row = await trx
    .updateTable('llmlb_keys')
    .set({ ...fields, version: sql<number>`version + 1` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (!row) return undefined;
  await appendChange(trx, id, 'key');
  return toKeyRecord(row);
}

/** Marks a one-use key consumed, once: one conditional update. */
export async function consumeKey(trx: Db, columns: SqlColumnTypes, id: string, at: string): Promise<boolean> {
  const result = await trx
    .updateTable('llmlb_keys')
    .set({ consumed_at: at, updated_at: at, version: sql<number>`version + 1` })
    .where('id', '=', id)
    .where('one_use', '=', columns.boolean === 'integer' ? 1 : true)
    .where('consumed_at', 'is', null)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return false;
  await appendChange(trx, id, 'key');
  return true;
}

/** Every key, oldest first (ties by id, in JavaScript's string order). */
export async function listKeys(db: Db): Promise<KeyRecord[]> {
  const rows = await db.selectFrom('llmlb_keys').selectAll().execute();
  return rows.map(toKeyRecord).sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
}

/** Deletes the keys revoked before `cutoff`, recording each; returns how many. */
export async function deleteKeysRevokedBefore(trx: Db, cutoff: string): Promise<number> {
  const rows = await trx.deleteFrom('llmlb_keys').where('revoked_at', '<', cutoff).returning('id').execute();
  for (const { id } of rows) await appendChange(trx, id, 'key');
  return rows.length;
}

/** Adds usage rows to the stored ones of the same key, model and hour. */
export async function addKeyUsage(trx: Db, rows: readonly KeyUsageRow[]): Promise<void> {
  for (const row of rows) {
    await trx
      .insertInto('llmlb_key_usage')
      .values({ ...row })
      .onConflict((oc) =>
        oc.columns(['key_id', 'model', 'hour']).doUpdateSet((eb) => ({
          requests: eb('llmlb_key_usage.requests', '+', eb.ref('excluded.requests')),
          errors: eb('llmlb_key_usage.errors', '+', eb.ref('excluded.errors')),
          prompt_tokens: eb('llmlb_key_usage.prompt_tokens', '+', eb.ref('excluded.prompt_tokens')),
          completion_tokens: eb('llmlb_key_usage.completion_tokens', '+', eb.ref('excluded.completion_tokens')),
        })),
      )
      .execute();
  }
}

/** A key's usage rows in a range of hours. */
export async function listKeyUsage(db: Db, keyId: string, range: KeyUsageRange): Promise<KeyUsageRow[]> {
  const rows = await db
    .selectFrom('llmlb_key_usage')
    .selectAll()
    .where('key_id', '=', keyId)
    .where('hour', '>=', range.from)
    .where('hour', '<', range.to)
    .execute();
  return rows.map(toKeyUsageRow).sort(byHourThenModel);
}

/** Deletes usage rows of hours before `cutoff`; returns how many. */
export async function deleteKeyUsageBefore(trx: Db, cutoff: string): Promise<number> {
  const result = await trx.deleteFrom('llmlb_key_usage').where('hour', '<', cutoff).executeTakeFirst();
  return Number(result.numDeletedRows);
}
