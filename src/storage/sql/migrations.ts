/**
 * Versioned schema migrations shared by every SQL dialect, defined in code (no filesystem
 * reads, so they survive bundling) and run through kysely's {@link Migrator}. Column types that
 * differ between databases come from the dialect. Applied migrations are recorded in
 * `llmlb_migration`, so llmlb can share a database with a host application that uses kysely
 * migrations of its own.
 *
 * Never change what a shipped migration does: add a new one (`0003_…`) instead. The CHECK lists
 * derive from `ENDPOINT_STATUSES` / `ADMIN_STATES`; `0001_initial` generates the same SQL it
 * shipped with (a test compares a migrated old database with a new one).
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { LlmlbError } from '../../errors.js';
import { ADMIN_STATES, ENDPOINT_STATUSES, ENDPOINT_TYPES, TYPE_SOURCES } from '../../schema.js';
import { CHANGE_KINDS } from '../types.js';
import { aliasesMigration } from './aliases-migration.js';
import type { SqlColumnTypes, SqlDialect } from './dialect.js';
import { keysMigration } from './key-migration.js';

/** Name of the table where applied migrations are recorded. */
const LLMLB_MIGRATION_TABLE = 'llmlb_migration';
/** Name of kysely's migration lock table for llmlb's migrations. */
const LLMLB_MIGRATION_LOCK_TABLE = 'llmlb_migration_lock';

/** The change-feed kinds `0002_fleet` allowed; `0004_change_subjects` allows every {@link CHANGE_KINDS}. */
const ENDPOINT_CHANGE_KINDS = ['endpoint', 'models', 'deleted'];

/** `in ('a', 'b', …)` for a CHECK constraint. */
export function oneOf(values: readonly string[]): ReturnType<typeof sql> {
  return sql`in (${sql.join(values.map((v) => sql.lit(v)))})`;
}

// `Kysely<any>` is what kysely's Migration interface prescribes: migrations must not depend on
// the current table typings, which describe the latest schema only.
function initial(columns: SqlColumnTypes): Migration {
  const statuses = oneOf(ENDPOINT_STATUSES);
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('endpoints')
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('base_url', 'text', (c) => c.notNull().unique())
        .addColumn('api_key_encrypted', 'text')
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status ${statuses}`))
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
        .addColumn('endpoint_id', 'text', (c) => c.notNull().references('endpoints.id').onDelete('cascade'))
        .addColumn('model_id', 'text', (c) => c.notNull())
        .addColumn('capabilities', 'text', (c) => c.notNull())
        .addColumn('last_checked', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('endpoint_models_pk', ['endpoint_id', 'model_id'])
        .execute();
      await db.schema.createIndex('endpoint_models_model_id_idx').on('endpoint_models').column('model_id').execute();

      await db.schema
        .createTable('endpoint_health_checks')
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('endpoint_id', 'text', (c) => c.notNull().references('endpoints.id').onDelete('cascade'))
        .addColumn('checked_at', 'text', (c) => c.notNull())
        .addColumn('success', columns.boolean, (c) =>
          columns.boolean === 'integer' ? c.notNull().check(sql`success in (0, 1)`) : c.notNull(),
        )
        .addColumn('latency_ms', 'integer')
        .addColumn('error_message', 'text')
        .addColumn('status_before', 'text', (c) => c.notNull().check(sql`status_before ${statuses}`))
        .addColumn('status_after', 'text', (c) => c.notNull().check(sql`status_after ${statuses}`))
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
  };
}

/** Admin state and version on endpoints, history ordering, the change feed and leases. */
function fleet(columns: SqlColumnTypes): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // One column per statement: SQLite adds a single column per ALTER TABLE.
      await db.schema
        .alterTable('endpoints')
        .addColumn('admin_state', 'text', (c) =>
          c.notNull().defaultTo('enabled').check(sql`admin_state ${oneOf(ADMIN_STATES)}`),
        )
        .execute();
      await db.schema
        .alterTable('endpoints')
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();
      await db.schema.alterTable('endpoint_health_checks').addColumn('change_seq', columns.int64).execute();

      await db.schema
        .createTable('llmlb_changes')
        .addColumn('seq', columns.serial.type, (c) => {
          const key = c.primaryKey().notNull();
          return columns.serial.autoIncrement ? key.autoIncrement() : key;
        })
        .addColumn('endpoint_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind ${oneOf(ENDPOINT_CHANGE_KINDS)}`))
        .addColumn('changed_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('llmlb_changes_changed_at_idx').on('llmlb_changes').column('changed_at').execute();

      await db.schema
        .createTable('llmlb_leases')
        .addColumn('name', 'text', (c) => c.primaryKey().notNull())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', columns.int64, (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('llmlb_leases').execute();
      await db.schema.dropTable('llmlb_changes').execute();
      await db.schema.alterTable('endpoint_health_checks').dropColumn('change_seq').execute();
      await db.schema.alterTable('endpoints').dropColumn('version').execute();
      await db.schema.alterTable('endpoints').dropColumn('admin_state').execute();
    },
  };
}

/** Routing settings of an endpoint: a concurrency cap, a priority tier and a weight. */
function routing(columns: SqlColumnTypes): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      // One column per statement: SQLite adds a single column per ALTER TABLE.
      await db.schema.alterTable('endpoints').addColumn('max_concurrency', 'integer', (c) => c.check(sql`max_concurrency >= 1`)).execute();
      await db.schema.alterTable('endpoints').addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('endpoints').addColumn('weight', columns.float, (c) => c.notNull().defaultTo(1)).execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      for (const column of ['weight', 'priority', 'max_concurrency']) await db.schema.alterTable('endpoints').dropColumn(column).execute();
    },
  };
}

/**
 * `0005_backends`: what llmlb knows of each backend — the endpoint's type and who set it; per
 * model the source of its capabilities, its context window, whether it is loaded, its size and
 * quantisation. Exported for the upgrade tests, which roll it back.
 */
export function backendsMigration(columns: SqlColumnTypes): Migration {
  const bool = (name: string) => (columns.boolean === 'integer' ? sql`${sql.ref(name)} in (0, 1)` : sql`true`);
  return {
    async up(db: Kysely<any>): Promise<void> {
      // One column per statement: SQLite adds a single column per ALTER TABLE.
      await db.schema
        .alterTable('endpoints')
        .addColumn('type', 'text', (c) => c.notNull().defaultTo('openai-compatible').check(sql`type ${oneOf(ENDPOINT_TYPES)}`))
        .execute();
      await db.schema
        .alterTable('endpoints')
        .addColumn('type_source', 'text', (c) => c.notNull().defaultTo('detected').check(sql`type_source ${oneOf(TYPE_SOURCES)}`))
        .execute();
      const models = () => db.schema.alterTable('endpoint_models');
      await models()
        .addColumn('capabilities_source', 'text', (c) => c.notNull().defaultTo('name').check(sql`capabilities_source in ('backend', 'name')`))
        .execute();
      await models().addColumn('context_length', 'integer', (c) => c.check(sql`context_length > 0`)).execute();
      await models().addColumn('loaded', columns.boolean, (c) => c.check(bool('loaded'))).execute();
      await models().addColumn('size_bytes', columns.int64).execute();
      await models().addColumn('quantization', 'text').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      for (const column of ['quantization', 'size_bytes', 'loaded', 'context_length', 'capabilities_source']) {
        await db.schema.alterTable('endpoint_models').dropColumn(column).execute();
      }
      for (const column of ['type_source', 'type']) await db.schema.alterTable('endpoints').dropColumn(column).execute();
    },
  };
}

/** `0008_nodes`: self-registered nodes' details, one row per endpoint, deleted with it. */
function nodes(columns: SqlColumnTypes): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('nodes')
        .addColumn('endpoint_id', 'text', (c) => c.primaryKey().notNull().references('endpoints.id').onDelete('cascade'))
        .addColumn('runtime_type', 'text', (c) => c.notNull())
        .addColumn('runtime_version', 'text')
        .addColumn('gpus', 'text', (c) => c.notNull())
        .addColumn('labels', 'text', (c) => c.notNull())
        .addColumn('token_sha256', 'text', (c) => c.notNull())
        .addColumn('previous_token_sha256', 'text')
        .addColumn('rotate_token', columns.boolean, (c) =>
          columns.boolean === 'integer' ? c.notNull().defaultTo(0).check(sql`rotate_token in (0, 1)`) : c.notNull().defaultTo(false),
        )
        .addColumn('registered_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('nodes').execute();
    },
  };
}

/** Every llmlb migration for a dialect, the shared ones and its own, keyed by name (applied in name order). */
function migrationProvider(dialect: SqlDialect): MigrationProvider {
  const columns = dialect.columns;
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return {
        '0001_initial': initial(columns),
        '0002_fleet': fleet(columns),
        '0003_routing': routing(columns),
        '0005_backends': backendsMigration(columns),
        '0006_aliases': aliasesMigration,
        '0007_keys': keysMigration(columns),
        '0008_nodes': nodes(columns),
        ...dialect.ownMigrations,
      };
    },
  };
}

/**
 * Applies every pending migration under the dialect's lock ({@link SqlDialect.migrate}), so a
 * crash leaves the schema either fully migrated or untouched and concurrent starts serialise
 * (the second finds nothing to do). Nothing pending is a no-op.
 *
 * @throws LlmlbError `internal_error` (with the original error as `cause`) when a migration fails.
 * @example
 * await migrateToLatest(dialect);
 */
export async function migrateToLatest(dialect: SqlDialect): Promise<void> {
  let failedMigration: string | undefined;
  try {
    await dialect.migrate(dialect.db, async (db) => {
      const migrator = new Migrator({
        db,
        provider: migrationProvider(dialect),
        migrationTableName: LLMLB_MIGRATION_TABLE,
        migrationLockTableName: LLMLB_MIGRATION_LOCK_TABLE,
        // The dialect's own transaction wraps the whole run.
        disableTransactions: true,
      });
      const { error, results } = await migrator.migrateToLatest();
      if (error !== undefined) {
        failedMigration = results?.find((r) => r.status === 'Error')?.migrationName;
        throw error;
      }
    });
  } catch (error) {
    const which = failedMigration === undefined ? '' : ` (at ${failedMigration})`;
    throw new LlmlbError('internal_error', `${dialect.kind} storage: schema migration failed${which}`, { cause: error });
  }
}
