/**
 * Versioned schema migrations of the SQLite adapter, defined in code (no filesystem reads, so
 * they survive bundling) and run through kysely's {@link Migrator}. Applied migrations are
 * recorded in `llmlb_migration`, so llmlb can share a database with a host application that
 * uses kysely migrations of its own.
 *
 * Never edit a migration that has shipped: add a new one (`0002_…`) instead.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { LlmlbError } from '../../errors.js';

/**
 * Name of the table where applied migrations are recorded.
 *
 * @example
 * db.prepare(`SELECT name FROM ${LLMLB_MIGRATION_TABLE}`).all();
 */
export const LLMLB_MIGRATION_TABLE = 'llmlb_migration';

/**
 * Name of kysely's migration lock table for llmlb's migrations.
 *
 * @example
 * new Migrator({ db, provider, migrationLockTableName: LLMLB_MIGRATION_LOCK_TABLE });
 */
export const LLMLB_MIGRATION_LOCK_TABLE = 'llmlb_migration_lock';

const ENDPOINT_STATUS_CHECK = sql`in ('pending', 'online', 'offline', 'error')`;

// `Kysely<any>` is what kysely's Migration interface prescribes: migrations must not depend on
// the current table typings, which describe the latest schema only.
const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_initial': {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('endpoints')
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('base_url', 'text', (c) => c.notNull().unique())
        .addColumn('api_key_encrypted', 'text')
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status ${ENDPOINT_STATUS_CHECK}`))
        .addColumn('health_check_interval_secs', 'integer', (c) => c.notNull())
        .addColumn('inference_timeout_secs', 'integer', (c) => c.notNull())
        .addColumn('latency_ms', 'integer')
        .addColumn('last_seen', 'text')
        .addColumn('last_error', 'text')
        .addColumn('error_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('registered_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('notes', 'text')
        .execute();
      await db.schema.createIndex('endpoints_status_idx').on('endpoints').column('status').execute();

      await db.schema
        .createTable('endpoint_models')
        .addColumn('endpoint_id', 'text', (c) =>
          c.notNull().references('endpoints.id').onDelete('cascade'),
        )
        .addColumn('model_id', 'text', (c) => c.notNull())
        .addColumn('capabilities', 'text', (c) => c.notNull())
        .addColumn('last_checked', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('endpoint_models_pk', ['endpoint_id', 'model_id'])
        .execute();
      await db.schema
        .createIndex('endpoint_models_model_id_idx')
        .on('endpoint_models')
        .column('model_id')
        .execute();

      await db.schema
        .createTable('endpoint_health_checks')
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('endpoint_id', 'text', (c) =>
          c.notNull().references('endpoints.id').onDelete('cascade'),
        )
        .addColumn('checked_at', 'text', (c) => c.notNull())
        .addColumn('success', 'integer', (c) => c.notNull().check(sql`success in (0, 1)`))
        .addColumn('latency_ms', 'integer')
        .addColumn('error_message', 'text')
        .addColumn('status_before', 'text', (c) => c.notNull().check(sql`status_before ${ENDPOINT_STATUS_CHECK}`))
        .addColumn('status_after', 'text', (c) => c.notNull().check(sql`status_after ${ENDPOINT_STATUS_CHECK}`))
        .execute();
      await db.schema
        .createIndex('endpoint_health_checks_endpoint_checked_idx')
        .on('endpoint_health_checks')
        .columns(['endpoint_id', 'checked_at'])
        .execute();
      await db.schema
        .createIndex('endpoint_health_checks_checked_at_idx')
        .on('endpoint_health_checks')
        .column('checked_at')
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('endpoint_health_checks').execute();
      await db.schema.dropTable('endpoint_models').execute();
      await db.schema.dropTable('endpoints').execute();
    },
  },
});

/**
 * The in-code {@link MigrationProvider} holding every llmlb migration, keyed by name (applied in
 * name order).
 *
 * @example
 * const migrator = new Migrator({ db, provider: llmlbMigrationProvider, migrationTableName: LLMLB_MIGRATION_TABLE });
 */
const llmlbMigrationProvider: MigrationProvider = Object.freeze({
  async getMigrations(): Promise<Record<string, Migration>> {
    return { ...migrations };
  },
});

/**
 * Applies every pending migration. The whole run — schema changes and the bookkeeping rows in
 * `llmlb_migration` — happens in one `BEGIN IMMEDIATE` transaction, so a crash leaves the schema
 * either fully migrated or untouched, and two processes starting on the same file serialise
 * (the second finds nothing to do). Nothing pending is a no-op.
 *
 * @throws LlmlbError `internal_error` (with the original error as `cause`) when a migration fails.
 * @example
 * await migrateToLatest(kysely);
 */
export async function migrateToLatest(db: Kysely<any>): Promise<void> {
  let failedMigration: string | undefined;
  try {
    await db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const migrator = new Migrator({
          db: conn,
          provider: llmlbMigrationProvider,
          migrationTableName: LLMLB_MIGRATION_TABLE,
          migrationLockTableName: LLMLB_MIGRATION_LOCK_TABLE,
        });
        const { error, results } = await migrator.migrateToLatest();
        if (error !== undefined) {
          failedMigration = results?.find((r) => r.status === 'Error')?.migrationName;
          throw error;
        }
        await sql`commit`.execute(conn);
      } catch (error) {
        await sql`rollback`.execute(conn).catch(() => undefined);
        throw error;
      }
    });
  } catch (error) {
    const which = failedMigration === undefined ? '' : ` (at ${failedMigration})`;
    throw new LlmlbError('internal_error', `sqlite storage: schema migration failed${which}`, { cause: error });
  }
}
