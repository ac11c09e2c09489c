/**
 * Migration `0007_keys`: runtime API keys (`llmlb_keys`, the secret's SHA-256 digest only) and
 * their hourly usage (`llmlb_key_usage`). Registered with the shared migrations in `./migrations.ts`.
 */
import { type ColumnDefinitionBuilder, sql, type Kysely, type Migration } from 'kysely';
import { ROLES } from '../../roles.js';
import type { SqlColumnTypes } from './dialect.js';
import { oneOf } from './migrations.js';

/** The key tables. `any`: migrations are written against no table typings (kysely's Migration interface). */
export function keysMigration(columns: SqlColumnTypes): Migration {
  /** A NOT NULL true/false column (0 or 1, checked, where there is no boolean type). */
  const bool = (name: string) => (c: ColumnDefinitionBuilder) =>
    columns.boolean === 'integer' ? c.notNull().check(sql`${sql.ref(name)} in (0, 1)`) : c.notNull();
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('llmlb_keys')
        .addColumn('id', 'text', (c) => c.primaryKey().notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull().check(sql`role ${oneOf(ROLES)}`))
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull().unique())
        .addColumn('enabled', columns.boolean, bool('enabled'))
        .addColumn('one_use', columns.boolean, bool('one_use'))
        .addColumn('expires_at', 'text')
        .addColumn('rpm', 'integer', (c) => c.check(sql`rpm >= 1`))
        .addColumn('max_concurrency', 'integer', (c) => c.check(sql`max_concurrency >= 1`))
        .addColumn('models', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('consumed_at', 'text')
        .addColumn('revoked_at', 'text')
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();

      await db.schema
        .createTable('llmlb_key_usage')
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('hour', 'text', (c) => c.notNull())
        .addColumn('requests', columns.int64, (c) => c.notNull().defaultTo(0))
        .addColumn('errors', columns.int64, (c) => c.notNull().defaultTo(0))
        .addColumn('prompt_tokens', columns.int64, (c) => c.notNull().defaultTo(0))
        .addColumn('completion_tokens', columns.int64, (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('llmlb_key_usage_pk', ['key_id', 'model', 'hour'])
        .execute();
      await db.schema.createIndex('llmlb_key_usage_hour_idx').on('llmlb_key_usage').column('hour').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('llmlb_key_usage').execute();
      await db.schema.dropTable('llmlb_keys').execute();
    },
  };
}
