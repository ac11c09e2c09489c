/**
 * The programmatic alias API (`router.aliases`): create, list, get, update and delete model
 * aliases — one public model name for several backend model ids. The `/v0/aliases` routes are a
 * thin translation onto these calls.
 */
import {
  type Alias,
  type AliasRecord,
  type CreateAliasInput,
  type UpdateAliasInput,
  createAliasInputSchema,
  modelNameSchema,
  toPublicAlias,
  updateAliasInputSchema,
} from './alias-schema.js';
import type { AliasTable } from './alias-table.js';
import { type Clock, isoAt } from './clock.js';
import { LlmlbError } from './errors.js';
import type { RegistryView } from './registry.js';
import { parseOrThrow } from './schema.js';

/** Result of `router.aliases.list`. */
export interface AliasList {
  aliases: Alias[];
  total: number;
}

/** What {@link AliasService} is built from. */
export interface AliasServiceDeps {
  table: AliasTable;
  /** The served model ids, which an alias may not hide unless it lists them. */
  registry: RegistryView;
  clock: Clock;
  /** Throws `not_ready` unless the router is started. */
  assertStarted: () => void;
}

/** `not_found` for an alias name (cut to 100 characters). */
function aliasNotFound(name: string): LlmlbError {
  return new LlmlbError('not_found', `alias ${JSON.stringify(name.slice(0, 100))} not found`);
}

/**
 * Create, read, update and delete model aliases. A request naming an alias may go to any
 * endpoint serving any of its targets; see docs/proxy.md.
 *
 * @example
 * await router.aliases.create({ name: 'llama3.1', targets: ['llama3.1:8b', 'meta-llama/Llama-3.1-8B-Instruct'] });
 * await router.aliases.update('llama3.1', { targets: ['llama3.1:8b'] });
 */
export class AliasService {
  readonly #deps: AliasServiceDeps;

  constructor(deps: AliasServiceDeps) {
    this.#deps = deps;
  }

  /** Every alias, by name. */
  async list(): Promise<AliasList> {
    this.#deps.assertStarted();
    const aliases = this.#deps.table.list().map(toPublicAlias);
    return { aliases, total: aliases.length };
  }

  /** One alias; `not_found` if there is none of that name. */
  async get(name: string): Promise<Alias> {
    this.#deps.assertStarted();
    return toPublicAlias(this.#find(name));
  }

  /**
   * Creates an alias. `conflict` when the name is taken by another alias, or is a model id an
   * endpoint serves and the alias does not list it among its targets (it would hide the model).
   */
  async create(input: CreateAliasInput): Promise<Alias> {
    this.#deps.assertStarted();
    const data = parseOrThrow(createAliasInputSchema, input, 'alias');
    this.#refuseShadowing(data.name, data.targets);
    const now = isoAt(this.#deps.clock);
    const record: AliasRecord = { name: data.name, targets: data.targets, created_at: now, updated_at: now, version: 1 };
    return toPublicAlias(await this.#deps.table.create(record));
  }

  /** Replaces an alias's targets; `not_found` if there is no such alias, `conflict` as for `create`. */
  async update(name: string, input: UpdateAliasInput): Promise<Alias> {
    this.#deps.assertStarted();
    const data = parseOrThrow(updateAliasInputSchema, input, 'alias update');
    const existing = this.#find(name);
    this.#refuseShadowing(existing.name, data.targets);
    const record = await this.#deps.table.update(existing.name, { targets: data.targets, updated_at: isoAt(this.#deps.clock) });
    if (!record) throw aliasNotFound(name);
    return toPublicAlias(record);
  }

  /** Deletes an alias; `not_found` if there is none. Requests naming it then find no model. */
  async delete(name: string): Promise<void> {
    this.#deps.assertStarted();
    const existing = this.#find(name);
    if (!(await this.#deps.table.remove(existing.name))) throw aliasNotFound(name);
  }

  #find(name: string): AliasRecord {
    const record = modelNameSchema.safeParse(name).success ? this.#deps.table.get(name) : undefined;
    if (!record) throw aliasNotFound(typeof name === 'string' ? name : String(name));
    return record;
  }

  /** An alias may take a served model's name only by listing that model among its targets. */
  #refuseShadowing(name: string, targets: readonly string[]): void {
    if (!this.#deps.registry.hasModel(name) || targets.includes(name)) return;
    throw new LlmlbError(
      'conflict',
      `a model named ${JSON.stringify(name)} is served by an endpoint: an alias of that name would hide it (list it among the targets to extend it)`,
      { details: [{ path: 'name', message: 'is a served model id that targets do not include' }] },
    );
  }
}
