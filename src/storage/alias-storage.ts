/**
 * The part of the storage contract that keeps model aliases ({@link StorageAdapter} extends it).
 * Every write appends an `alias` change, named by the alias, to the change feed in the same
 * transaction, so other routers on the same storage re-read it.
 */
import type { AliasRecord } from '../alias-schema.js';

/** The alias fields an update may change. */
export interface AliasPatch {
  targets: string[];
  updated_at: string;
}

/**
 * Alias rows: one per alias name.
 *
 * @example
 * await storage.insertAlias({ name: 'llama3.1', targets: ['llama3.1:8b'], created_at: now, updated_at: now, version: 1 });
 */
export interface AliasStorage {
  /** Inserts an alias (its `version` as given, normally 1); `conflict` if the name is taken. */
  insertAlias(record: AliasRecord): Promise<void>;
  /** Applies `patch`, raises the version and returns the stored result; `undefined` if there is no such alias. */
  updateAlias(name: string, patch: AliasPatch): Promise<AliasRecord | undefined>;
  /** Deletes an alias; false if it did not exist. */
  deleteAlias(name: string): Promise<boolean>;
  /** One alias, or `undefined`. */
  getAlias(name: string): Promise<AliasRecord | undefined>;
  /** Every alias, by name (JavaScript string order). */
  listAliases(): Promise<AliasRecord[]>;
}
