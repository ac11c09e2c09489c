/**
 * `router.keys`: create, list, get, update and revoke runtime API keys, and read their usage.
 * Every write goes to storage first (which appends a `key` change for other instances), then to
 * the in-memory directory, so it takes effect on this instance at once.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { LlmlbError } from '../errors.js';
import { KEY_USAGE_RETENTION_DAYS } from '../health/retention.js';
import type { Logger } from '../logger.js';
import { parseOrThrow } from '../schema.js';
import type { KeyPatch, KeyRecord } from '../storage/key-types.js';
import type { StorageAdapter } from '../storage/types.js';
import type { KeyDirectory } from './directory.js';
import {
  type ApiKey,
  type CreateKeyInput,
  type CreatedApiKey,
  type KeyUsageQuery,
  type KeyUsageReport,
  type UpdateKeyInput,
  createKeyInputSchema,
  toApiKey,
  updateKeyInputSchema,
  usageQuerySchema,
} from './schema.js';
import { newSecret } from './secret.js';
import type { UsageMeter } from './usage.js';

const HOUR_MS = 3_600_000;
/** The longest usage query: the retention period and a day of slack for its edges. */
const MAX_RANGE_DAYS = KEY_USAGE_RETENTION_DAYS + 1;

/** What the key service works with. */
export interface KeyServiceDeps {
  storage: StorageAdapter;
  directory: KeyDirectory;
  usage: UsageMeter;
  clock: Clock;
  logger: Logger;
  /** Called when a key changed or went away (the limiter forgets its window). */
  changed: (keyId: string) => void;
  assertStarted: () => void;
}

/** A list of keys. */
export interface KeyList {
  keys: ApiKey[];
  total: number;
}

function notFound(id: string): LlmlbError {
  return new LlmlbError('not_found', `key ${JSON.stringify(id)} not found`);
}

/** The storage patch of an update (the limits object flattened into columns). */
function toPatch(input: ReturnType<typeof updateKeyInputSchema.parse>, now: string): KeyPatch {
  const { limits, ...fields } = input;
  return {
    ...fields,
    rpm: limits?.requests_per_minute,
    max_concurrency: limits?.max_concurrency,
    models: limits?.models,
    updated_at: now,
  };
}

/**
 * The programmatic key API (the `/v0/keys` routes call it).
 *
 * @example
 * const { secret, id } = await router.keys.create({ name: 'team-a', role: 'client', limits: { requests_per_minute: 600 } });
 * await router.keys.revoke(id);
 */
export class KeyService {
  readonly #deps: KeyServiceDeps;

  constructor(deps: KeyServiceDeps) {
    this.#deps = deps;
  }

  /** Creates a key; the answer carries its secret, which is shown this once and never again. */
  async create(input: CreateKeyInput): Promise<CreatedApiKey> {
    this.#deps.assertStarted();
    const data = parseOrThrow(createKeyInputSchema, input, 'key');
    const now = new Date(this.#deps.clock.now()).toISOString();
    if (data.expires_at !== null && Date.parse(data.expires_at) <= this.#deps.clock.now()) {
      throw new LlmlbError('validation_error', 'invalid key: expires_at: must be in the future', {
        details: [{ path: 'expires_at', message: 'must be in the future' }],
      });
    }
    const { secret, prefix, digest } = newSecret();
    const record: KeyRecord = {
      id: randomUUID(),
      name: data.name,
      role: data.role,
      prefix,
      digest,
      enabled: data.enabled,
      one_use: data.one_use,
      expires_at: data.expires_at,
      rpm: data.limits.requests_per_minute ?? null,
      max_concurrency: data.limits.max_concurrency ?? null,
      models: data.limits.models ?? null,
      created_at: now,
      updated_at: now,
      consumed_at: null,
      revoked_at: null,
      version: 1,
    };
    await this.#deps.storage.insertKey(record);
    this.#apply(record);
    this.#deps.logger.info({ key_id: record.id, key_prefix: prefix, key_name: record.name, role: record.role }, 'api key created');
    return { ...toApiKey(record, this.#deps.clock.now()), secret };
  }

  /** Every key: configured keys (read-only) first, then runtime keys oldest first. */
  async list(): Promise<KeyList> {
    this.#deps.assertStarted();
    const keys = this.#deps.directory.list();
    return { keys, total: keys.length };
  }

  /** One key; `not_found` for an unknown id. */
  async get(id: string): Promise<ApiKey> {
    this.#deps.assertStarted();
    const key = this.#deps.directory.get(id);
    if (!key) throw notFound(id);
    return key;
  }

  /**
   * Changes a runtime key's name, role, limits, expiry or enabled flag. `forbidden` for a
   * configured key, `conflict` for a revoked one.
   */
  async update(id: string, input: UpdateKeyInput): Promise<ApiKey> {
    const current = this.#writable(id);
    const data = parseOrThrow(updateKeyInputSchema, input, 'key update');
    if (current.one_use && data.role !== undefined && data.role !== 'node') {
      throw new LlmlbError('validation_error', 'invalid key update: role: a one-use key is a registration token and stays a node key', {
        details: [{ path: 'role', message: 'a one-use key stays a node key' }],
      });
    }
    const record = await this.#deps.storage.updateKey(id, toPatch(data, new Date(this.#deps.clock.now()).toISOString()));
    if (!record) throw notFound(id);
    this.#apply(record);
    this.#deps.logger.info({ key_id: id, key_prefix: record.prefix, key_name: record.name }, 'api key updated');
    return toApiKey(record, this.#deps.clock.now());
  }

  /**
   * Revokes a runtime key for good: it stops working at once here and, through the change feed,
   * on every instance. Its record and usage stay readable for {@link KEY_USAGE_RETENTION_DAYS} days.
   * Revoking a revoked key changes nothing; `forbidden` for a configured key.
   */
  async revoke(id: string): Promise<void> {
    const current = this.#writable(id, true);
    if (current.revoked_at !== null) return;
    const now = new Date(this.#deps.clock.now()).toISOString();
    const record = await this.#deps.storage.updateKey(id, { revoked_at: now, updated_at: now });
    if (!record) throw notFound(id);
    this.#apply(record);
    this.#deps.logger.info({ key_id: id, key_prefix: record.prefix, key_name: record.name }, 'api key revoked');
  }

  /** A key's usage per model and hour in a range (default: the last 24 hours), with totals. */
  async usage(id: string, query: KeyUsageQuery = {}): Promise<KeyUsageReport> {
    this.#deps.assertStarted();
    const parsed = parseOrThrow(usageQuerySchema, query, 'usage query');
    if (!this.#deps.directory.entry(id)) throw notFound(id);
    const now = this.#deps.clock.now();
    const to = parsed.to === undefined ? Math.ceil((now + 1) / HOUR_MS) * HOUR_MS : Date.parse(parsed.to);
    const from = parsed.from === undefined ? to - 24 * HOUR_MS : Date.parse(parsed.from);
    if (from >= to) throw rangeError('from', 'must be before to');
    if (to - from > MAX_RANGE_DAYS * 24 * HOUR_MS) throw rangeError('from', `the range must be at most ${MAX_RANGE_DAYS} days`);
    const range = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
    const rows = await this.#deps.usage.read(id, range);
    const totals = { requests: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0 };
    for (const row of rows) {
      totals.requests += row.requests;
      totals.errors += row.errors;
      totals.prompt_tokens += row.prompt_tokens;
      totals.completion_tokens += row.completion_tokens;
    }
    return { key_id: id, ...range, usage: rows.map(({ key_id: _key, ...row }) => row), totals };
  }

  /**
   * Consumes a one-use key (a registration token) after the registration it allowed; true when
   * this call consumed it or the key is not one-use (configured keys never are).
   * `unauthorized` when it was used already, `not_found` for an unknown key.
   */
  async consume(id: string): Promise<boolean> {
    const entry = this.#deps.directory.entry(id);
    if (!entry) throw notFound(id);
    if (!entry.record?.one_use) return true;
    const now = new Date(this.#deps.clock.now()).toISOString();
    const consumed = await this.#deps.storage.consumeKey(id, now);
    const record = await this.#deps.storage.getKey(id);
    if (record) this.#apply(record);
    if (!consumed) throw new LlmlbError('unauthorized', 'this registration token has been used already');
    this.#deps.logger.info({ key_id: id, key_prefix: entry.record.prefix, key_name: entry.record.name }, 'registration token consumed');
    return true;
  }

  /** Re-reads a key another instance wrote (from the change feed). */
  async reload(id: string): Promise<void> {
    const record = await this.#deps.storage.getKey(id);
    if (!record) {
      if (this.#deps.directory.forget(id)) this.#deps.changed(id);
      return;
    }
    this.#apply(record);
  }

  /** Deletes the keys revoked before `cutoff` (the retention loop's call), in storage and here. */
  async pruneRevoked(cutoff: string): Promise<number> {
    const deleted = await this.#deps.storage.deleteKeysRevokedBefore(cutoff);
    for (const id of this.#deps.directory.revokedBefore(cutoff)) {
      this.#deps.directory.forget(id);
      this.#deps.changed(id);
    }
    return deleted;
  }

  /** Fills the directory from storage. */
  async load(): Promise<number> {
    const records = await this.#deps.storage.listKeys();
    for (const record of records) this.#deps.directory.apply(record);
    return records.length;
  }

  /** The stored record of a runtime key that may be written; errors for configured and revoked keys. */
  #writable(id: string, revoking = false): KeyRecord {
    this.#deps.assertStarted();
    const entry = this.#deps.directory.entry(id);
    if (!entry) throw notFound(id);
    if (!entry.record) {
      throw new LlmlbError('forbidden', 'this key is configured (the auth option or LLMLB_API_KEYS) and read-only: change the configuration and restart');
    }
    if (!revoking && entry.record.revoked_at !== null) throw new LlmlbError('conflict', 'this key is revoked: revocation is final, create a new key');
    return entry.record;
  }

  #apply(record: KeyRecord): void {
    if (this.#deps.directory.apply(record)) this.#deps.changed(record.id);
  }
}

function rangeError(path: string, message: string): LlmlbError {
  return new LlmlbError('validation_error', `invalid usage query: ${path}: ${message}`, { details: [{ path, message }] });
}
