/** The alias rows of the in-memory storage. */
import type { AliasRecord } from '../../alias-schema.js';
import type { AliasPatch, AliasStorage } from '../alias-storage.js';
import { aliasConflictError } from '../conflict.js';

/** Records an `alias` change of the named alias in the storage's change feed. */
type RecordAliasChange = (name: string) => void;

function copyAlias(record: AliasRecord): AliasRecord {
  return { ...record, targets: [...record.targets] };
}

/**
 * Aliases by name, each write recorded in the owning storage's change feed.
 *
 * @example
 * const aliases = new MemoryAliases((name) => recordChange(name, 'alias'));
 */
export class MemoryAliases implements AliasStorage {
  readonly #aliases = new Map<string, AliasRecord>();
  readonly #recordChange: RecordAliasChange;

  constructor(recordChange: RecordAliasChange) {
    this.#recordChange = recordChange;
  }

  async insertAlias(record: AliasRecord): Promise<void> {
    if (this.#aliases.has(record.name)) throw aliasConflictError(record.name);
    this.#aliases.set(record.name, copyAlias(record));
    this.#recordChange(record.name);
  }

  async updateAlias(name: string, patch: AliasPatch): Promise<AliasRecord | undefined> {
    const current = this.#aliases.get(name);
    if (!current) return undefined;
    const next = { ...current, targets: [...patch.targets], updated_at: patch.updated_at, version: current.version + 1 };
    this.#aliases.set(name, next);
    this.#recordChange(name);
    return copyAlias(next);
  }

  async deleteAlias(name: string): Promise<boolean> {
    if (!this.#aliases.delete(name)) return false;
    this.#recordChange(name);
    return true;
  }

  async getAlias(name: string): Promise<AliasRecord | undefined> {
    const record = this.#aliases.get(name);
    return record && copyAlias(record);
  }

  async listAliases(): Promise<AliasRecord[]> {
    return [...this.#aliases.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(copyAlias);
  }
}
