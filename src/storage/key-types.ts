/**
 * The part of the storage contract that keeps runtime API keys and their hourly usage: records
 * as every adapter stores them (the secret itself is never stored, only its SHA-256 digest).
 */
import type { Role } from '../roles.js';

/** A runtime API key as stored. */
export interface KeyRecord {
  /** UUID. */
  id: string;
  name: string;
  role: Role;
  /** The readable start of the secret (`llmlb_ab12cd34`), shown in lists and logs. */
  prefix: string;
  /** SHA-256 hex digest of the secret. */
  digest: string;
  /** False while an admin has switched the key off (reversible, unlike a revocation). */
  enabled: boolean;
  /** A `node` key consumed by the first successful node registration. */
  one_use: boolean;
  /** ISO-8601 time from which the key no longer works, or null. */
  expires_at: string | null;
  /** Most `/v1` requests per minute, or null for no limit. */
  rpm: number | null;
  /** Most concurrent `/v1` requests, or null for no limit. */
  max_concurrency: number | null;
  /** The models the key may use, or null for every model. */
  models: string[] | null;
  created_at: string;
  updated_at: string;
  /** When a one-use key was consumed, or null. */
  consumed_at: string | null;
  /** When the key was revoked (for good), or null. */
  revoked_at: string | null;
  /** Raised by storage on every write of the row. */
  version: number;
}

/** The fields of a key that change after creation; `undefined` leaves a field as it is. */
export type KeyPatch = Partial<
  Pick<KeyRecord, 'name' | 'role' | 'enabled' | 'expires_at' | 'rpm' | 'max_concurrency' | 'models' | 'updated_at' | 'revoked_at'>
>;

/** Traffic of one key on one model in one hour (the unit usage is stored and added in). */
export interface KeyUsageRow {
  key_id: string;
  model: string;
  /** Start of the hour, ISO-8601 (`2026-01-01T10:00:00.000Z`). */
  hour: string;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
}

/** A range of hours: `from` inclusive, `to` exclusive (ISO-8601). */
export interface KeyUsageRange {
  from: string;
  to: string;
}

/**
 * Keys and usage: the storage contract extends this. Every write of a key row raises its
 * `version` and appends a `key` change (subject: the key id) to the change feed in the same
 * transaction, so other instances re-read it. Usage rows are not in the feed.
 */
export interface KeyStorage {
  /** Inserts a new key (its version as given, normally 1); `conflict` when the id is taken. */
  insertKey(record: KeyRecord): Promise<void>;
  /** Applies `patch`, raises the version; the stored result, or `undefined` without such a key. */
  updateKey(id: string, patch: KeyPatch): Promise<KeyRecord | undefined>;
  /**
   * Marks a one-use key consumed at `at`, atomically: true for the one call that consumed it;
   * false when there is no such key, it is not one-use, or it was consumed already.
   */
  consumeKey(id: string, at: string): Promise<boolean>;
  /** One key, or `undefined`. */
  getKey(id: string): Promise<KeyRecord | undefined>;
  /** Every key, oldest first. */
  listKeys(): Promise<KeyRecord[]>;
  /** Deletes keys revoked strictly before `cutoff` (ISO-8601), recording each; returns how many. */
  deleteKeysRevokedBefore(cutoff: string): Promise<number>;

  /**
   * Adds each row's counts to the stored row of the same key, model and hour (creating it), in one
   * transaction.
   */
  addKeyUsage(rows: readonly KeyUsageRow[]): Promise<void>;
  /** A key's usage rows in `range`, by hour then model. */
  listKeyUsage(keyId: string, range: KeyUsageRange): Promise<KeyUsageRow[]>;
  /** Deletes usage rows of hours strictly before `cutoff` (ISO-8601); returns how many. */
  deleteKeyUsageBefore(cutoff: string): Promise<number>;
}
