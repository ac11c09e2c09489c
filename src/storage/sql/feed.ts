/** The change feed and leases, shared by every SQL dialect. */
import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import { rowLimit } from '../limits.js';
import type { ChangeBatch, ChangeKind, Lease } from '../types.js';
import { toStorageChange } from './rows.js';
import type { LlmlbDatabase } from './tables.js';

type Db = Kysely<LlmlbDatabase>;

/**
 * Appends a `kind` change of record `subjectId` to the feed (call it inside the write's
 * transaction) and returns its position.
 *
 * @example
 * const seq = await appendChange(trx, id, 'endpoint');
 */
export async function appendChange(trx: Db, subjectId: string, kind: ChangeKind): Promise<number> {
  const row = await trx
    .insertInto('llmlb_changes')
    .values({ subject_id: subjectId, kind, changed_at: new Date().toISOString() })
    .returning('seq')
    .executeTakeFirstOrThrow();
  return Number(row.seq);
}

/** The newest feed position, 0 when the feed is empty. */
export async function latestChange(db: Db): Promise<number> {
  const row = await db
    .selectFrom('llmlb_changes')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .executeTakeFirst();
  return row?.seq == null ? 0 : Number(row.seq);
}

/** At most `limit` changes after `cursor`, oldest first, and the cursor to ask from next. */
export async function changesSince(db: Db, cursor: number, limit: number): Promise<ChangeBatch> {
  const rows = await db
    .selectFrom('llmlb_changes')
    .select(['seq', 'subject_id', 'kind'])
    .where('seq', '>', cursor)
    .orderBy('seq')
    .limit(rowLimit(limit) ?? Number.MAX_SAFE_INTEGER)
    .execute();
  const changes = rows.map(toStorageChange);
  return { changes, cursor: changes.at(-1)?.seq ?? cursor };
}

/** Deletes the changes recorded strictly before `cutoff`; returns how many. */
export async function deleteChangesBefore(trx: Db, cutoff: string): Promise<number> {
  const result = await trx.deleteFrom('llmlb_changes').where('changed_at', '<', cutoff).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Takes or renews lease `name` for `holder` until `now + ttlMs` in one statement: an insert
 * that, when the lease exists, updates it only if `holder` holds it or it has expired.
 */
export async function tryLease(trx: Db, name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
  const expires_at = now + ttlMs;
  const result = await trx
    .insertInto('llmlb_leases')
    .values({ name, holder, expires_at })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({ holder, expires_at })
        .where((eb) => eb.or([eb('llmlb_leases.holder', '=', holder), eb('llmlb_leases.expires_at', '<=', now)])),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Deletes lease `name` if `holder` holds it. */
export async function releaseLease(trx: Db, name: string, holder: string): Promise<void> {
  await trx.deleteFrom('llmlb_leases').where('name', '=', name).where('holder', '=', holder).execute();
}

/** `name` starts with `prefix`, case-sensitively in every database (unlike `like`). */
function named(prefix: string) {
  return (eb: ExpressionBuilder<LlmlbDatabase, 'llmlb_leases'>) =>
    eb(sql<string>`substr(name, 1, ${prefix.length})`, '=', prefix);
}

/** Extends the unexpired leases of `holder` named `prefix…` to `now + ttlMs`; returns their names. */
export async function renewLeases(trx: Db, holder: string, prefix: string, ttlMs: number, now: number): Promise<string[]> {
  const rows = await trx
    .updateTable('llmlb_leases')
    .set({ expires_at: now + ttlMs })
    .where('holder', '=', holder)
    .where('expires_at', '>', now)
    .where(named(prefix))
    .returning('name')
    .execute();
  return rows.map((row) => row.name).sort();
}

/** The unexpired leases named `prefix…`, by name. */
export async function listLeases(db: Db, prefix: string, now: number): Promise<Lease[]> {
  const rows = await db.selectFrom('llmlb_leases').selectAll().where('expires_at', '>', now).where(named(prefix)).execute();
  return rows
    .map((row) => ({ name: row.name, holder: row.holder, expires_at: Number(row.expires_at) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
