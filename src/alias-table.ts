/**
 * The alias table: every model alias in memory, loaded from storage at start and kept in step
 * with it — the one writer of aliases in storage and in memory. Admin writes go to storage first,
 * then here; other instances' writes arrive through the change feed (`alias` changes, read with
 * the store's cursor). Routing reads it without touching storage.
 */
import { EventEmitter } from 'eventemitter3';
import type { AliasRecord } from './alias-schema.js';
import type { AliasPatch, AliasStorage } from './storage/alias-storage.js';
import type { RecordKind, RecordReloader } from './store.js';

/** What everyone but the table's owner may do with it: read. */
export type AliasView = Pick<AliasTable, 'version' | 'get' | 'list' | 'size' | 'on' | 'off'>;

/** Events of the {@link AliasTable}. */
export interface AliasTableEvents {
  /** An alias was added, changed or removed (by this instance or, through the feed, another). */
  aliasChanged: (name: string) => void;
}

/** Where the table registers for the feed's `alias` changes (the endpoint store). */
export interface RecordFollower {
  followRecords(kind: RecordKind, reload: RecordReloader): void;
}

/**
 * Aliases by name. Writes and feed reloads run one at a time, so what storage said last is what
 * the table holds.
 *
 * @example
 * const aliases = new AliasTable(storage, store);
 * await aliases.load();
 * aliases.get('llama3.1')?.targets; // ['llama3.1:8b', 'meta-llama/Llama-3.1-8B-Instruct']
 */
export class AliasTable extends EventEmitter<AliasTableEvents> {
  readonly #storage: AliasStorage;
  #aliases = new Map<string, AliasRecord>();
  #version = 0;
  /** The write or reload in progress: the next one waits for it. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(storage: AliasStorage, follower: RecordFollower) {
    super();
    this.#storage = storage;
    follower.followRecords('alias', (name) => this.#serial(() => this.#reload(name)));
  }

  /** Increases whenever an alias is added, changed or removed: lets readers cache what they derive. */
  get version(): number {
    return this.#version;
  }

  /** Number of aliases. */
  get size(): number {
    return this.#aliases.size;
  }

  /** One alias by its exact name, or `undefined` (a map lookup: the proxy asks on every request). */
  get(name: string): AliasRecord | undefined {
    return this.#aliases.get(name);
  }

  /** Every alias, by name. */
  list(): AliasRecord[] {
    return [...this.#aliases.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Fills the table from storage (after the store read the feed position, so nothing is missed). */
  async load(): Promise<number> {
    const records = await this.#storage.listAliases();
    this.#aliases = new Map(records.map((r) => [r.name, r]));
    this.#version++;
    return records.length;
  }

  /** Stores a new alias; `conflict` when the name is taken. */
  create(record: AliasRecord): Promise<AliasRecord> {
    return this.#serial(async () => {
      await this.#storage.insertAlias(record);
      this.#put(record);
      return record;
    });
  }

  /** Changes an alias's targets; undefined when there is no such alias. */
  update(name: string, patch: AliasPatch): Promise<AliasRecord | undefined> {
    return this.#serial(async () => {
      const record = await this.#storage.updateAlias(name, patch);
      if (record) this.#put(record);
      else this.#drop(name);
      return record;
    });
  }

  /** Deletes an alias; false when there was none. */
  remove(name: string): Promise<boolean> {
    return this.#serial(async () => {
      const existed = await this.#storage.deleteAlias(name);
      this.#drop(name);
      return existed;
    });
  }

  /** Runs `fn` after every earlier write or reload has settled. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Another instance wrote or removed the alias: read what storage holds now. */
  async #reload(name: string): Promise<void> {
    const record = await this.#storage.getAlias(name);
    if (record) this.#put(record);
    else this.#drop(name);
  }

  #put(record: AliasRecord): void {
    const held = this.#aliases.get(record.name);
    // The same write read back (our own, from the feed): nothing changed.
    if (held && held.version === record.version && held.created_at === record.created_at && held.updated_at === record.updated_at) return;
    this.#aliases.set(record.name, record);
    this.#changed(record.name);
  }

  #drop(name: string): void {
    if (this.#aliases.delete(name)) this.#changed(name);
  }

  #changed(name: string): void {
    this.#version++;
    this.emit('aliasChanged', name);
  }
}
