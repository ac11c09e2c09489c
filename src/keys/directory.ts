/**
 * The in-memory directory of API keys: every configured key and every runtime key by digest (for
 * authentication, one map lookup, no storage access) and by id (for the admin API, limits and
 * usage). Written only by the key service; other instances' writes reach it through the change feed.
 */
import type { Clock } from '../clock.js';
import { LlmlbError } from '../errors.js';
import type { Principal, Role } from '../roles.js';
import type { KeyRecord } from '../storage/key-types.js';
import { type ApiKey, configApiKey, toApiKey } from './schema.js';
import { configKeyId } from './secret.js';

/** A key from the `auth` option: its digest, role and label. */
export interface ConfigKey {
  /** SHA-256 hex digest of the key (lower case). */
  digest: string;
  role: Role;
  name?: string;
}

/** One key as the directory holds it. */
export interface KeyEntry {
  readonly principal: Readonly<Principal>;
  /** The stored record; null for a configured key. */
  readonly record: KeyRecord | null;
  /** Epoch ms from which the key stops working (Infinity: never). */
  readonly expiresAt: number;
  /** Enabled, not revoked, not consumed (expiry is checked against the clock separately). */
  readonly usable: boolean;
  /** The models the key may use, or null for every model. */
  readonly models: ReadonlySet<string> | null;
}

function runtimeEntry(record: KeyRecord): KeyEntry {
  return {
    principal: Object.freeze({ role: record.role, name: record.name, keyId: record.id }),
    record,
    expiresAt: record.expires_at === null ? Infinity : Date.parse(record.expires_at),
    usable: record.enabled && record.revoked_at === null && record.consumed_at === null,
    models: record.models === null ? null : new Set(record.models),
  };
}

/**
 * Keys by digest and by id.
 *
 * @example
 * const directory = new KeyDirectory([{ digest: hashKey(adminKey), role: 'admin' }], clock);
 * directory.resolve(hashKey(token)); // the caller's principal, or null
 */
export class KeyDirectory {
  readonly #clock: Clock;
  readonly #byDigest = new Map<string, KeyEntry>();
  readonly #byId = new Map<string, KeyEntry>();
  readonly #config: readonly ApiKey[];

  /** `invalid_request` when the same key is configured twice. */
  constructor(configKeys: readonly ConfigKey[], clock: Clock) {
    this.#clock = clock;
    const listed: ApiKey[] = [];
    for (const key of configKeys) {
      if (this.#byDigest.has(key.digest)) throw new LlmlbError('invalid_request', 'the same key is configured twice');
      const id = configKeyId(key.digest);
      const principal: Principal = key.name === undefined ? { role: key.role, keyId: id } : { role: key.role, name: key.name, keyId: id };
      const entry: KeyEntry = { principal: Object.freeze(principal), record: null, expiresAt: Infinity, usable: true, models: null };
      this.#byDigest.set(key.digest, entry);
      this.#byId.set(id, entry);
      listed.push(configApiKey(id, key.role, key.name));
    }
    this.#config = listed;
  }

  /** The principal of a key digest, if the key works now; null otherwise. */
  resolve(digest: string): Readonly<Principal> | null {
    const entry = this.#byDigest.get(digest);
    if (!entry?.usable || entry.expiresAt <= this.#clock.now()) return null;
    return entry.principal;
  }

  /** The key with this id, configured or runtime (in any state). */
  entry(id: string): KeyEntry | undefined {
    return this.#byId.get(id);
  }

  /** Puts a runtime key in (replacing an older version of it); false when it is not newer. */
  apply(record: KeyRecord): boolean {
    const previous = this.#byId.get(record.id);
    if (previous && (previous.record === null || previous.record.version >= record.version)) return false;
    if (!previous && this.#byDigest.has(record.digest)) return false;
    const entry = runtimeEntry(record);
    this.#byId.set(record.id, entry);
    this.#byDigest.set(record.digest, entry);
    return true;
  }

  /** Drops a runtime key (deleted from storage); false when there was none. */
  forget(id: string): boolean {
    const entry = this.#byId.get(id);
    if (!entry?.record) return false;
    this.#byId.delete(id);
    this.#byDigest.delete(entry.record.digest);
    return true;
  }

  /** Ids of the runtime keys revoked before `cutoff` (ISO-8601). */
  revokedBefore(cutoff: string): string[] {
    return [...this.#byId.values()].flatMap(({ record }) => (record?.revoked_at != null && record.revoked_at < cutoff ? [record.id] : []));
  }

  /** Every key: the configured ones in configuration order, then runtime keys oldest first. */
  list(): ApiKey[] {
    const now = this.#clock.now();
    const runtime = [...this.#byId.values()].flatMap((entry) => (entry.record ? [entry.record] : []));
    runtime.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
    return [...this.#config.map((key) => ({ ...key, limits: { ...key.limits } })), ...runtime.map((record) => toApiKey(record, now))];
  }

  /** The public shape of one key, or undefined. */
  get(id: string): ApiKey | undefined {
    const entry = this.#byId.get(id);
    if (!entry) return undefined;
    if (entry.record) return toApiKey(entry.record, this.#clock.now());
    const config = this.#config.find((key) => key.id === id);
    return config && { ...config, limits: { ...config.limits } };
  }
}
