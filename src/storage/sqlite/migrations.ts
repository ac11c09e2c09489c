/** Migrations only SQLite runs: schema changes SQLite cannot make with `ALTER TABLE`. */
import { type Kysely, type Migration, sql } from 'kysely';
import { oneOf } from '../sql/migrations.js';
import { CHANGE_KINDS } from '../types.js';

/**
 * Rebuilds the change feed as `llmlb_changes` with columns `seq`, `subject` (the name of the id column), `kind`, `changed_at`,
 * keeping its rows of `kinds` and its AUTOINCREMENT counter, so no position is ever handed out twice (even
 * after retention emptied the table).
 */
// `Kysely<any>`: migrations are written against no table typings (kysely's Migration interface).
async function rebuildChanges(db: Kysely<any>, subject: string, kinds: readonly string[]): Promise<void> {
  const { rows } = await sql<{ seq: number }>`select seq from sqlite_sequence where name = 'llmlb_changes'`.execute(db);
  const counter = rows[0]?.seq ?? 0;
  const from = subject === 'subject_id' ? 'endpoint_id' : 'subject_id';
  await db.schema
    .createTable('llmlb_changes_next')
    .addColumn('seq', 'integer', (c) => c.primaryKey().notNull().autoIncrement())
    .addColumn(subject, 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind ${oneOf(kinds)}`))
    .addColumn('changed_at', 'text', (c) => c.notNull())
    .execute();
  await sql`insert into llmlb_changes_next (seq, ${sql.ref(subject)}, kind, changed_at)
    select seq, ${sql.ref(from)}, kind, changed_at from llmlb_changes where kind ${oneOf(kinds)}`.execute(db);
  await db.schema.dropTable('llmlb_changes').execute();
  await sql`alter table llmlb_changes_next rename to llmlb_changes`.execute(db);
  await sql`delete from sqlite_sequence where name in ('llmlb_changes', 'llmlb_changes_next')`.execute(db);
  await sql`insert into sqlite_sequence (name, seq)
    values ('llmlb_changes', max(${counter}, (select coalesce(max(seq), 0) from llmlb_changes)))`.execute(db);
  await db.schema.createIndex('llmlb_changes_changed_at_idx').on('llmlb_changes').column('changed_at').execute();
}

/** `0004_change_subjects`: the change feed names any record (`subject_id`) of every {@link CHANGE_KINDS}. */
const changeSubjects: Migration = {
  up: (db) => rebuildChanges(db, 'subject_id', CHANGE_KINDS),
  down: (db) => rebuildChanges(db, 'endpoint_id', ['endpoint', 'models', 'deleted']),
};

/** SQLite's own migrations, by name. */
export const SQLITE_MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({ '0004_change_subjects': changeSubjects });
