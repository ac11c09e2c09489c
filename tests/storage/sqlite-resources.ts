/**
 * Temporary files, adapters and databases for the SQLite tests: each helper registers what it
 * creates, and {@link releaseAll} (run after every test) closes and removes it all.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { LlmlbError } from '../../src/errors.js';
import type { StorageAdapter } from '../../src/storage/types.js';

const tempDirs: string[] = [];
const databases: Database.Database[] = [];
const adapters: StorageAdapter[] = [];

/** A path for a database file in a new temporary directory. */
export async function tempFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'llmlb-sqlite-'));
  tempDirs.push(dir);
  return join(dir, 'llmlb.db');
}

/** An adapter closed automatically after the test. */
export function track(storage: StorageAdapter): StorageAdapter {
  adapters.push(storage);
  return storage;
}

/** A better-sqlite3 database closed automatically after the test. */
export function trackDatabase(db: Database.Database): Database.Database {
  databases.push(db);
  return db;
}

/** A new in-memory better-sqlite3 database, closed automatically after the test. */
export function callerDatabase(): Database.Database {
  return trackDatabase(new Database(':memory:'));
}

/** The names of the schema objects of one `type` in `db`, sorted, without SQLite's own. */
export function schemaNames(db: Database.Database, type: 'table' | 'index'): string[] {
  return db
    .prepare(`SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%' ORDER BY name`)
    .all(type)
    .map((r) => (r as { name: string }).name);
}

/** The {@link LlmlbError} `promise` rejects with (failing the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<LlmlbError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LlmlbError);
  return error as LlmlbError;
}

/** Closes the tracked adapters, then the tracked databases, and removes the temporary files. */
export async function releaseAll(): Promise<void> {
  for (const adapter of adapters.splice(0)) await adapter.close();
  for (const db of databases.splice(0)) if (db.open) db.close();
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
}
