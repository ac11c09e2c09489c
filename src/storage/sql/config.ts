/** Reading the config of a SQL storage factory: exactly one source, and precise messages. */
import type { Kysely } from 'kysely';
import { LlmlbError } from '../../errors.js';
import type { LlmlbDatabase } from './tables.js';

/** A storage config that named exactly one of its sources. */
export interface StorageConfigReader {
  /** The config's fields, unchecked. */
  readonly fields: Readonly<Record<string, unknown>>;
  /** `invalid_request` prefixed with the factory's name. */
  invalid(message: string): LlmlbError;
  /** The caller's kysely instance of the `kysely` field, checked to be one. */
  kysely(): Kysely<LlmlbDatabase>;
}

/**
 * Checks that `config` is an object naming exactly one of `sources`.
 *
 * @throws LlmlbError `invalid_request` (`"<factory>: …"`) otherwise.
 * @example
 * const { fields, invalid } = readStorageConfig('sqliteStorage', config, ['filename', 'database', 'kysely']);
 */
export function readStorageConfig(factory: string, config: unknown, sources: readonly string[]): StorageConfigReader {
  const invalid = (message: string) => new LlmlbError('invalid_request', `${factory}: ${message}`);
  if (typeof config !== 'object' || config === null) throw invalid('config must be an object');
  const fields = config as Record<string, unknown>;
  if (sources.filter((key) => fields[key] !== undefined).length !== 1) {
    throw invalid(`pass exactly one of ${sources.slice(0, -1).join(', ')} or ${sources.at(-1)}`);
  }
  return {
    fields,
    invalid,
    kysely() {
      const kysely = fields.kysely as Kysely<LlmlbDatabase>;
      if (typeof kysely.connection !== 'function') throw invalid('kysely must be a Kysely instance');
      return kysely;
    },
  };
}
