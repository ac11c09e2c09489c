/**
 * The in-memory view of every endpoint and its models, loaded from storage at start and kept in
 * step by the endpoint store, its only writer. It answers "which routable endpoints serve
 * model M" from an index, so routing never touches storage (SPEC §7).
 */
import { type EndpointModel, type EndpointRecord, type EndpointStatus, offersCapability } from './schema.js';
import { sameFacts } from './storage/models-diff.js';

const EMPTY: readonly EndpointRecord[] = Object.freeze([]);

/** What everyone but the store may do with the registry: read. */
export type RegistryView = Pick<
  Registry,
  | 'version'
  | 'getEndpoint'
  | 'listEndpoints'
  | 'size'
  | 'modelsOf'
  | 'modelCount'
  | 'modelOf'
  | 'hasModel'
  | 'modelIds'
  | 'endpointsFor'
  | 'onlineEndpointsFor'
  | 'hasCapability'
>;

/** True when an endpoint takes new requests: online and enabled by its admin. */
export function isRoutable(endpoint: Pick<EndpointRecord, 'status' | 'admin_state'>): boolean {
  return endpoint.status === 'online' && endpoint.admin_state === 'enabled';
}

/**
 * Endpoints by id, models by endpoint, and endpoints by model. Candidate lists are computed once
 * per model and cached until a change to one of its endpoints (status, latency, model set).
 * Written only by the endpoint store; everyone else gets a {@link RegistryView}.
 *
 * @example
 * const registry = new Registry();
 * registry.load(await storage.listEndpoints(), await storage.listAllModels());
 * registry.onlineEndpointsFor('llama3.1:8b'); // online endpoints serving the model
 */
export class Registry {
  #endpoints = new Map<string, EndpointRecord>();
  #modelsByEndpoint = new Map<string, Map<string, EndpointModel>>();
  #endpointsByModel = new Map<string, Set<string>>();
  /** model → capability (or `*` for any) → online endpoints. */
  #onlineCache = new Map<string, Map<string, readonly EndpointRecord[]>>();

  #version = 0;

  /**
   * Increases whenever what a model listing shows changes: an endpoint added or removed, a status,
   * admin-state or type change, a model set, capabilities or metadata change (not latency or
   * timestamps). Lets callers cache
   * what they derive from the registry.
   */
  get version(): number {
    return this.#version;
  }

  /** Replaces the whole view (used at start). */
  load(endpoints: readonly EndpointRecord[], models: readonly EndpointModel[]): void {
    this.#endpoints.clear();
    this.#modelsByEndpoint.clear();
    this.#endpointsByModel.clear();
    this.#onlineCache.clear();
    for (const endpoint of endpoints) this.upsertEndpoint(endpoint);
    const grouped = new Map<string, EndpointModel[]>();
    for (const model of models) {
      const list = grouped.get(model.endpoint_id) ?? [];
      list.push(model);
      grouped.set(model.endpoint_id, list);
    }
    for (const [endpointId, list] of grouped) this.setModels(endpointId, list);
  }

  /**
   * Adds an endpoint or replaces it with a newer version of its record. A record older than the
   * one held (a lower `version`) is stale and ignored: returns false.
   */
  upsertEndpoint(record: EndpointRecord): boolean {
    const previous = this.#endpoints.get(record.id);
    if (previous && previous.version > record.version) return false;
    if (previous?.status !== record.status || previous.admin_state !== record.admin_state || previous.type !== record.type) this.#version++;
    this.#endpoints.set(record.id, record);
    if (!this.#modelsByEndpoint.has(record.id)) this.#modelsByEndpoint.set(record.id, new Map());
    // Any change can alter candidate order (status, latency): drop the endpoint's cached lists.
    if (previous !== record) this.#invalidateModelsOf(record.id);
    return true;
  }

  /** Forgets an endpoint and its models. */
  removeEndpoint(id: string): void {
    this.setModels(id, []);
    this.#modelsByEndpoint.delete(id);
    this.#endpoints.delete(id);
    this.#version++;
  }

  /**
   * Replaces the model set of an endpoint (ignored if the endpoint is unknown). Returns true when
   * the set, a capability or a model's metadata changed, false for a routine refresh.
   */
  setModels(endpointId: string, models: readonly EndpointModel[]): boolean {
    const current = this.#modelsByEndpoint.get(endpointId);
    if (!current) return false;
    if (sameModels(current, models)) {
      // Same models and capabilities (a routine sync): refresh the entries, keep every index.
      for (const model of models) current.set(model.model_id, fixedShape(model));
      return false;
    }
    this.#version++;
    for (const modelId of current.keys()) {
      this.#onlineCache.delete(modelId);
      const holders = this.#endpointsByModel.get(modelId);
      holders?.delete(endpointId);
      if (holders?.size === 0) this.#endpointsByModel.delete(modelId);
    }
    current.clear();
    for (const model of models) {
      current.set(model.model_id, fixedShape(model));
      this.#onlineCache.delete(model.model_id);
      let holders = this.#endpointsByModel.get(model.model_id);
      if (!holders) this.#endpointsByModel.set(model.model_id, (holders = new Set()));
      holders.add(endpointId);
    }
    return true;
  }

  /** One endpoint, or `undefined`. */
  getEndpoint(id: string): EndpointRecord | undefined {
    return this.#endpoints.get(id);
  }

  /** Every endpoint (optionally only those with `status`), oldest registration first. */
  listEndpoints(status?: EndpointStatus): EndpointRecord[] {
    const all = [...this.#endpoints.values()];
    return status === undefined ? all : all.filter((e) => e.status === status);
  }

  /** Number of known endpoints. */
  get size(): number {
    return this.#endpoints.size;
  }

  /** The models of one endpoint, ordered by model id. */
  modelsOf(endpointId: string): EndpointModel[] {
    const models = this.#modelsByEndpoint.get(endpointId);
    if (!models) return [];
    return [...models.values()].sort((a, b) => (a.model_id < b.model_id ? -1 : a.model_id > b.model_id ? 1 : 0));
  }

  /** How many models an endpoint serves. */
  modelCount(endpointId: string): number {
    return this.#modelsByEndpoint.get(endpointId)?.size ?? 0;
  }

  /** One endpoint's entry for a model, or `undefined`. */
  modelOf(endpointId: string, modelId: string): EndpointModel | undefined {
    return this.#modelsByEndpoint.get(endpointId)?.get(modelId);
  }

  /** True when at least one endpoint (in any status) serves the model. */
  hasModel(modelId: string): boolean {
    return this.#endpointsByModel.has(modelId);
  }

  /** Every model id known to the router, sorted. */
  modelIds(): string[] {
    return [...this.#endpointsByModel.keys()].sort();
  }

  /** Every endpoint (any status) serving the model. */
  endpointsFor(modelId: string): EndpointRecord[] {
    const ids = this.#endpointsByModel.get(modelId);
    if (!ids) return [];
    const result: EndpointRecord[] = [];
    for (const id of ids) {
      const endpoint = this.#endpoints.get(id);
      if (endpoint) result.push(endpoint);
    }
    return result;
  }

  /**
   * The routable endpoints (online and enabled) serving the model, with `capability` when given.
   * The returned array is shared and frozen: it stays valid until the next change and costs
   * nothing to fetch again.
   */
  onlineEndpointsFor(modelId: string, capability?: string): readonly EndpointRecord[] {
    const key = capability ?? '*';
    let byCapability = this.#onlineCache.get(modelId);
    const cached = byCapability?.get(key);
    if (cached) return cached;
    if (!this.#endpointsByModel.has(modelId)) return EMPTY;
    const online = Object.freeze(
      this.endpointsFor(modelId).filter(
        (e) => isRoutable(e) && (capability === undefined || this.hasCapability(e.id, modelId, capability)),
      ),
    );
    if (!byCapability) this.#onlineCache.set(modelId, (byCapability = new Map()));
    byCapability.set(key, online);
    return online;
  }

  /** True when the endpoint serves the model with the capability, or one that implies it (see `offersCapability`). */
  hasCapability(endpointId: string, modelId: string, capability: string): boolean {
    const model = this.modelOf(endpointId, modelId);
    return model !== undefined && offersCapability(model.capabilities, capability);
  }

  #invalidateModelsOf(endpointId: string): void {
    const models = this.#modelsByEndpoint.get(endpointId);
    if (!models) return;
    for (const modelId of models.keys()) this.#onlineCache.delete(modelId);
  }
}

/** True when `next` holds exactly the models of `current`, with the same capabilities and metadata. */
function sameModels(current: ReadonlyMap<string, EndpointModel>, next: readonly EndpointModel[]): boolean {
  if (current.size !== next.length) return false;
  for (const model of next) {
    const existing = current.get(model.model_id);
    if (!existing || !sameFacts(existing, model)) return false;
  }
  return true;
}

/**
 * The model as an object of one fixed shape. Entries are read on every routed request (`modelOf`:
 * capabilities, context, loaded); built by spreads and storage rows they would each have their
 * own hidden class, and reading a field of them would miss the engine's inline caches.
 */
function fixedShape(model: EndpointModel): EndpointModel {
  return {
    endpoint_id: model.endpoint_id,
    model_id: model.model_id,
    capabilities: model.capabilities,
    last_checked: model.last_checked,
    capabilities_source: model.capabilities_source,
    context_length: model.context_length,
    loaded: model.loaded,
    size_bytes: model.size_bytes,
    quantization: model.quantization,
  };
}
