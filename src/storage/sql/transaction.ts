/** The write transaction every SQL dialect runs the same way, begun by its own statements. */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { LlmlbDatabase } from './tables.js';

type Db = Kysely<LlmlbDatabase>;

/**
 * Runs `fn` in a transaction on one connection: `begin` (the dialect's own opening, e.g.
 * SQLite's `begin immediate`, or `begin` and an advisory lock), then commit, or roll back and
 * rethrow. Begun by hand rather than with kysely's transaction builder, so kysely's Migrator
 * (which asks for a connection) can run inside it.
 *
 * @example
 * await onConnection(db, (conn) => sql`begin immediate`.execute(conn), (trx) => write(trx));
 */
export function onConnection<T>(db: Db, begin: (conn: Db) => Promise<unknown>, fn: (conn: Db) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    await begin(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (error) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw error;
    }
  });
}
