/** Runtime API keys and their usage in process memory: the memory adapter's {@link KeyStorage}. */
import { LlmlbError } from '../../errors.js';
import type { KeyPatch, KeyRecord, KeyStorage, KeyUsageRange, KeyUsageRow } from '../key-types.js';
import { byHourThenModel, keyPatchFields, usageKey } from '../key-patch.js';

/** Copies a key record (its model list included). */
function copyKey(record: KeyRecord): KeyRecord {
  return { ...record, models: record.models === null ? null : [...record.models] };
}

/**
 * Keys and usage rows in maps; `recordChange` appends a `key` change to the adapter's feed.
 *
 * @example
 * const keys = new MemoryKeys((id) => feed.push(id));
 */
export class MemoryKeys implements KeyStorage {
  readonly #keys = new Map<string, KeyRecord>();
  readonly #usage = new Map<string, KeyUsageRow>();
  readonly #recordChange: (keyId: string) => void;

  constructor(recordChange: (keyId: string) => void) {
    this.#recordChange = recordChange;
  }

  async insertKey(record: KeyRecord): Promise<void> {
    if (this.#keys.has(record.id)) throw new LlmlbError('conflict', `a key with id ${record.id} already exists`);
    this.#keys.set(record.id, copyKey(record));
    this.#recordChange(record.id);
  }

  async updateKey(id: string, patch: KeyPatch): Promise<KeyRecord | undefined> {
    const current = this.#keys.get(id);
    if (!current) return undefined;
    const next = copyKey({ ...current, ...keyPatchFields(patch), version: current.version + 1 });
    this.#keys.set(id, next);
    this.#recordChange(id);
    return copyKey(next);
  }

  async consumeKey(id: string, at: string): Promise<boolean> {
    const current = this.#keys.get(id);
    if (!current || !current.one_use || current.consumed_at !== null) return false;
    this.#keys.set(id, { ...current, consumed_at: at, updated_at: at, version: current.version + 1 });
    this.#recordChange(id);
    return true;
  }

  async getKey(id: string): Promise<KeyRecord | undefined> {
    const record = this.#keys.get(id);
    return record && copyKey(record);
  }

  async listKeys(): Promise<KeyRecord[]> {
    return [...this.#keys.values()].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id)).map(copyKey);
  }

  async deleteKeysRevokedBefore(cutoff: string): Promise<number> {
    let deleted = 0;
    for (const [id, record] of this.#keys) {
      if (record.revoked_at === null || record.revoked_at >= cutoff) continue;
      this.#keys.delete(id);
      this.#recordChange(id);
      deleted++;
    }
    return deleted;
  }

  async addKeyUsage(rows: readonly KeyUsageRow[]): Promise<void> {
    for (const row of rows) {
      const key = usageKey(row);
      const stored = this.#usage.get(key);
      if (!stored) {
        this.#usage.set(key, { ...row });
        continue;
      }
      stored.requests += row.requests;
      stored.errors += row.errors;
      stored.prompt_tokens += row.prompt_tokens;
      stored.completion_tokens += row.completion_tokens;
    }
  }

  async listKeyUsage(keyId: string, range: KeyUsageRange): Promise<KeyUsageRow[]> {
    return [...this.#usage.values()]
      .filter((row) => row.key_id === keyId && row.hour >= range.from && row.hour < range.to)
      .sort(byHourThenModel)
      .map((row) => ({ ...row }));
  }

  async deleteKeyUsageBefore(cutoff: string): Promise<number> {
    let deleted = 0;
    for (const [key, row] of this.#usage) {
      if (row.hour >= cutoff) continue;
      this.#usage.delete(key);
      deleted++;
    }
    return deleted;
  }
}
