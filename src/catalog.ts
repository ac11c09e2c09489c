/**
 * `router.models`: every model the router knows, with the endpoints serving it and whether any of
 * them can take a request now, and every alias with its targets. What `GET /v1/models` lists, and
 * what a dashboard shows.
 */
import type { AliasRecord } from './alias-schema.js';
import type { AliasView } from './alias-table.js';
import { LlmlbError } from './errors.js';
import { type RegistryView, isRoutable } from './registry.js';
import type { AdminState, EndpointStatus, EndpointType } from './schema.js';

/** An endpoint as listed under a model, with what its backend told of the model there. */
export interface ModelEndpointInfo {
  id: string;
  name: string;
  status: EndpointStatus;
  admin_state: AdminState;
  type: EndpointType;
  /** Context window there, in tokens (null: not told). */
  context_length: number | null;
  /** In memory there now (null: not told). */
  loaded: boolean | null;
}

/** A model known to the router. */
export interface ModelInfo {
  id: string;
  /** True when at least one endpoint serving it is online and enabled. */
  available: boolean;
  /** Union of the capabilities its endpoints report, sorted. */
  capabilities: string[];
  /** The largest context window its endpoints report, in tokens (null: none told). */
  context_length: number | null;
  /** True when an endpoint has it in memory now, false when the ones that tell do not (null: none tells). */
  loaded: boolean | null;
  /** Unix seconds of the earliest registration among its endpoints. */
  created: number;
  /** Every endpoint serving it, in any status. */
  endpoints: ModelEndpointInfo[];
}

/**
 * An alias as the catalog shows it: what requests naming it can reach now. `id` is its name;
 * `available`, `capabilities`, `context_length` and `loaded` are its targets' together (as a
 * model's are its endpoints'); `created` is when the alias was made.
 */
export interface AliasInfo extends Omit<ModelInfo, 'endpoints'> {
  /** True when a model of the same id is served too: requests naming it go to the alias. */
  shadows_model: boolean;
  /** Its targets in order of preference, each as a model (no endpoint and unavailable while none serves it). */
  targets: ModelInfo[];
}

/**
 * Reads models from the registry and aliases from the alias table. Whole listings are cached until the registry changes.
 *
 * @example
 * router.models.list().filter((m) => m.available).map((m) => m.id);
 * router.models.get('llama3.1:8b').endpoints; // [{ id, name, status, admin_state }]
 */
export class ModelCatalog {
  readonly #registry: RegistryView;
  readonly #aliases: AliasView;
  readonly #assertStarted: () => void;
  #cache: { version: number; models: readonly ModelInfo[] } | undefined;
  #aliasCache: { version: number; aliasVersion: number; aliases: readonly AliasInfo[] } | undefined;

  constructor(registry: RegistryView, aliases: AliasView, assertStarted: () => void) {
    this.#registry = registry;
    this.#aliases = aliases;
    this.#assertStarted = assertStarted;
  }

  /** Every model, sorted by id. The array and its entries are shared and frozen. */
  list(): readonly ModelInfo[] {
    this.#assertStarted();
    const version = this.#registry.version;
    if (this.#cache?.version !== version) {
      const models = Object.freeze(this.#registry.modelIds().map((id) => this.#describe(id)));
      this.#cache = { version, models };
    }
    return this.#cache.models;
  }

  /** One model; `model_not_found` when no endpoint serves it. */
  get(id: string): ModelInfo {
    this.#assertStarted();
    if (!this.#registry.hasModel(id)) {
      throw new LlmlbError('model_not_found', `model ${JSON.stringify(id)} is not served by any endpoint`);
    }
    return this.#describe(id);
  }

  /** Every alias, sorted by name. The array and its entries are shared and frozen. */
  aliases(): readonly AliasInfo[] {
    this.#assertStarted();
    const [version, aliasVersion] = [this.#registry.version, this.#aliases.version];
    if (this.#aliasCache?.version !== version || this.#aliasCache.aliasVersion !== aliasVersion) {
      const aliases = Object.freeze(this.#aliases.list().map((alias) => this.#describeAlias(alias)));
      this.#aliasCache = { version, aliasVersion, aliases };
    }
    return this.#aliasCache.aliases;
  }

  /** One alias, or `undefined` when there is none of that name. */
  findAlias(name: string): AliasInfo | undefined {
    this.#assertStarted();
    const alias = this.#aliases.get(name);
    return alias && this.#describeAlias(alias);
  }

  #describeAlias(alias: AliasRecord): AliasInfo {
    const targets = alias.targets.map((id) => this.#describe(id));
    const capabilities = new Set(targets.flatMap((t) => t.capabilities));
    const contexts = targets.flatMap((t) => (t.context_length === null ? [] : [t.context_length]));
    const told = targets.filter((t) => t.loaded !== null);
    return Object.freeze({
      id: alias.name,
      available: targets.some((t) => t.available),
      capabilities: [...capabilities].sort(),
      context_length: contexts.length === 0 ? null : Math.max(...contexts),
      loaded: told.length === 0 ? null : told.some((t) => t.loaded === true),
      created: Math.floor(Date.parse(alias.created_at) / 1000),
      shadows_model: this.#registry.hasModel(alias.name),
      targets,
    });
  }

  #describe(id: string): ModelInfo {
    const holders = this.#registry.endpointsFor(id);
    const capabilities = new Set<string>();
    let created = Infinity;
    const endpoints: ModelEndpointInfo[] = [];
    for (const endpoint of holders) {
      const model = this.#registry.modelOf(endpoint.id, id);
      for (const c of model?.capabilities ?? []) capabilities.add(c);
      created = Math.min(created, Date.parse(endpoint.registered_at));
      const { id: endpointId, name, status, admin_state, type } = endpoint;
      endpoints.push({ id: endpointId, name, status, admin_state, type, context_length: model?.context_length ?? null, loaded: model?.loaded ?? null });
    }
    const contexts = endpoints.flatMap((e) => (e.context_length === null ? [] : [e.context_length]));
    const told = endpoints.filter((e) => e.loaded !== null);
    return Object.freeze({
      id,
      available: holders.some(isRoutable),
      capabilities: [...capabilities].sort(),
      context_length: contexts.length === 0 ? null : Math.max(...contexts),
      loaded: told.length === 0 ? null : told.some((e) => e.loaded === true),
      created: Number.isFinite(created) ? Math.floor(created / 1000) : 0,
      endpoints,
    });
  }
}
