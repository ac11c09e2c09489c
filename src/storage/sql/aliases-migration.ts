/**
 * `0006_aliases`: the `model_aliases` table and the endpoints' `static_models` column (a JSON
 * model list, null while the models are discovered).
 */
import type { Kysely, Migration } from 'kysely';

/** The migration, the same in every SQL database. */
// `Kysely<any>`: migrations are written against no table typings (kysely's Migration interface).
export const aliasesMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('model_aliases')
      .addColumn('name', 'text', (c) => c.primaryKey().notNull())
      .addColumn('targets', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
      .execute();
    await db.schema.alterTable('endpoints').addColumn('static_models', 'text').execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('endpoints').dropColumn('static_models').execute();
    await db.schema.dropTable('model_aliases').execute();
  },
};
