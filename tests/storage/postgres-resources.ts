/**
 * Databases and pools for the PostgreSQL tests, on the throwaway server the global setup
 * started: {@link describePostgres} skips a file's cases when PostgreSQL is not installed.
 */
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { describe, inject } from 'vitest';
import { createDatabase } from '../helpers/postgres-server.js';

/** `describe`, skipped (with the reason in its name) when no PostgreSQL server is running. */
export const describePostgres: (name: string, fn: () => void) => void = (name, fn) => {
  // Skipped only where PostgreSQL is not installed (a developer's machine); CI installs it and
  // sets LLMLB_REQUIRE_POSTGRES=1, which makes the global setup fail instead.
  const missing = inject('postgresUrl') === null;
  describe.skipIf(missing)(missing ? `${name} (PostgreSQL is not installed)` : name, fn);
};

/** A new database on the shared test server; its connection string. */
export function testDatabase(): Promise<string> {
  const url = inject('postgresUrl');
  if (url === null) throw new Error('no PostgreSQL server');
  return createDatabase(url);
}

const pools: pg.Pool[] = [];

/** A `pg` pool on `url`, ended by {@link endPools}. */
export function testPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  pools.push(pool);
  return pool;
}

/** A kysely instance on a pool of `url`. */
export function testKysely(url: string): Kysely<unknown> {
  return new Kysely<unknown>({ dialect: new PostgresDialect({ pool: testPool(url) }) });
}

/** Ends every pool made by {@link testPool}. */
export async function endPools(): Promise<void> {
  await Promise.all(pools.splice(0).map((pool) => pool.end()));
}

/** Empties llmlb's tables (when they exist) and restarts the feed's numbering. */
export async function emptyTables(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`do $$ begin
      if to_regclass('endpoints') is not null then
        truncate endpoints, endpoint_models, endpoint_health_checks, nodes, llmlb_changes, llmlb_leases restart identity;
      end if;
      if to_regclass('model_aliases') is not null then truncate model_aliases; end if;
      if to_regclass('llmlb_keys') is not null then truncate llmlb_keys, llmlb_key_usage; end if; end $$`);
  } finally {
    await client.end();
  }
}

/** The names of llmlb's migrations recorded in the database of `db`. */
export async function migrationNames(db: Kysely<unknown>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from llmlb_migration order by name`.execute(db);
  return rows.map((row) => row.name);
}
