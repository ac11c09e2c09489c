/**
 * What a requested model name stands for in routing: a model id that endpoints serve, or an
 * alias — whose candidates are the routable endpoints of all its targets — and, for an alias,
 * which model id each endpoint is sent. An alias wins over a model id of the same name.
 */
import type { AliasView } from '../alias-table.js';
import type { RegistryView } from '../registry.js';
import type { Capability, EndpointRecord } from '../schema.js';

/** An alias's routable endpoints for one capability, and the per-target lists they came from. */
interface AliasUnion {
  /** The registry's (shared, frozen) list per target: the union is current while they are. */
  parts: readonly (readonly EndpointRecord[])[];
  endpoints: readonly EndpointRecord[];
}

/**
 * Candidate endpoints by requested name. For a plain model id every call is the registry's
 * cached lookup; an alias's union is cached until one of its targets' lists or the alias changes.
 *
 * @example
 * const candidates = new ModelCandidates(registry, aliases);
 * candidates.online('llama3.1', 'chat'); // endpoints serving llama3.1:8b or meta-llama/Llama-3.1-8B-Instruct
 * candidates.upstreamModel('llama3.1', endpoint.id, 'chat'); // 'llama3.1:8b' on the Ollama box
 */
export class ModelCandidates {
  readonly #registry: RegistryView;
  readonly #aliases: AliasView;
  /** alias name → capability → union. */
  readonly #unions = new Map<string, Map<string, AliasUnion>>();

  constructor(registry: RegistryView, aliases: AliasView) {
    this.#registry = registry;
    this.#aliases = aliases;
    aliases.on('aliasChanged', (name) => this.#unions.delete(name));
  }

  /** True when the name is an alias or a model id some endpoint (in any status) serves. */
  known(name: string): boolean {
    return this.#aliases.get(name) !== undefined || this.#registry.hasModel(name);
  }

  /**
   * The routable endpoints (online, enabled) for the name with the capability. The array is
   * shared and frozen.
   */
  online(name: string, capability: Capability): readonly EndpointRecord[] {
    const alias = this.#aliases.get(name);
    if (alias === undefined) return this.#registry.onlineEndpointsFor(name, capability);
    let byCapability = this.#unions.get(name);
    const cached = byCapability?.get(capability);
    if (cached && this.#current(cached, alias.targets, capability)) return cached.endpoints;
    const union = this.#union(alias.targets, capability);
    if (!byCapability) this.#unions.set(name, (byCapability = new Map()));
    byCapability.set(capability, union);
    return union.endpoints;
  }

  /** True when some endpoint, in any status, serves the model id (for an alias, one of its targets). */
  served(name: string): boolean {
    const targets = this.#aliases.get(name)?.targets;
    return targets === undefined ? this.#registry.hasModel(name) : targets.some((target) => this.#registry.hasModel(target));
  }

  /** True when an endpoint in any status serves the name (or one of the alias's targets) with the capability. */
  supports(name: string, capability: Capability): boolean {
    const registry = this.#registry;
    const ids = this.#aliases.get(name)?.targets ?? [name];
    return ids.some((id) => registry.endpointsFor(id).some((e) => registry.hasCapability(e.id, id, capability)));
  }

  /** Every endpoint, in any status, serving the name (or one of the alias's targets) with the capability, each once. */
  serving(name: string, capability: Capability): EndpointRecord[] {
    const registry = this.#registry;
    const found = new Set<EndpointRecord>();
    for (const id of this.#aliases.get(name)?.targets ?? [name]) {
      for (const endpoint of registry.endpointsFor(id)) if (registry.hasCapability(endpoint.id, id, capability)) found.add(endpoint);
    }
    return [...found];
  }

  /**
   * The model id to send an endpoint chosen for a request naming `name`: for an alias, its first
   * target the endpoint serves with the capability; `undefined` when the name is no alias (the
   * request goes as it came).
   */
  upstreamModel(name: string, endpointId: string, capability: Capability): string | undefined {
    const alias = this.#aliases.get(name);
    if (alias === undefined) return undefined;
    return alias.targets.find((target) => this.#registry.hasCapability(endpointId, target, capability));
  }

  #current(union: AliasUnion, targets: readonly string[], capability: Capability): boolean {
    if (union.parts.length !== targets.length) return false;
    return union.parts.every((part, i) => part === this.#registry.onlineEndpointsFor(targets[i] as string, capability));
  }

  /** The endpoints of every target, each once, in target order. */
  #union(targets: readonly string[], capability: Capability): AliasUnion {
    const parts = targets.map((target) => this.#registry.onlineEndpointsFor(target, capability));
    const seen = new Set<string>();
    const endpoints: EndpointRecord[] = [];
    for (const part of parts) {
      for (const endpoint of part) {
        if (seen.has(endpoint.id)) continue;
        seen.add(endpoint.id);
        endpoints.push(endpoint);
      }
    }
    return { parts, endpoints: Object.freeze(endpoints) };
  }
}
