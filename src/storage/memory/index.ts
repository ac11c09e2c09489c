/** In-memory storage: for tests and ephemeral routers. Nothing survives the process. */
import { LlmlbError } from '../../errors.js';
import type {
  DiscoveredModel,
  EndpointHealthCheck,
  EndpointModel,
  EndpointPatch,
  EndpointRecord,
  ModelSetDiff,
} from '../../schema.js';
import { diffModelSets } from '../models-diff.js';
import { patchFields } from '../patch.js';
import type { EndpointFilter, StorageAdapter } from '../types.js';

class MemoryStorage implements StorageAdapter {
  readonly kind = 'memory';
  #endpoints = new Map<string, EndpointRecord>();
  #models = new Map<string, Map<string, EndpointModel>>();
  #checks = new Map<string, EndpointHealthCheck[]>();

  async init(): Promise<void> {}
  async close(): Promise<void> {}

  #assertUnique(candidate: Pick<EndpointRecord, 'id' | 'name' | 'base_url'>): void {
    for (const other of this.#endpoints.values()) {
      if (other.id === candidate.id) continue;
      if (other.name === candidate.name) {
        throw new LlmlbError('conflict', `an endpoint named ${JSON.stringify(candidate.name)} already exists`);
      }
      if (other.base_url === candidate.base_url) {
        throw new LlmlbError('conflict', `an endpoint with base_url ${candidate.base_url} already exists`);
      }
    }
  }

  async insertEndpoint(record: EndpointRecord): Promise<void> {
    if (this.#endpoints.has(record.id)) throw new LlmlbError('conflict', `endpoint ${record.id} already exists`);
    this.#assertUnique(record);
    this.#endpoints.set(record.id, { ...record });
    this.#models.set(record.id, new Map());
    this.#checks.set(record.id, []);
  }

  async updateEndpoint(id: string, patch: EndpointPatch): Promise<EndpointRecord | undefined> {
    return this.#update(id, patch);
  }

  #update(id: string, patch: EndpointPatch): EndpointRecord | undefined {
    const current = this.#endpoints.get(id);
    if (!current) return undefined;
    const next = { ...current, ...patchFields(patch) };
    this.#assertUnique(next);
    this.#endpoints.set(id, next);
    return { ...next };
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    this.#models.delete(id);
    this.#checks.delete(id);
    return this.#endpoints.delete(id);
  }

  async getEndpoint(id: string): Promise<EndpointRecord | undefined> {
    const record = this.#endpoints.get(id);
    return record && { ...record };
  }

  async listEndpoints(filter: EndpointFilter = {}): Promise<EndpointRecord[]> {
    const all = [...this.#endpoints.values()];
    return all
      .filter((e) => filter.status === undefined || e.status === filter.status)
      .sort((a, b) => a.registered_at.localeCompare(b.registered_at) || a.id.localeCompare(b.id))
      .map((e) => ({ ...e }));
  }

  async replaceEndpointModels(
    endpointId: string,
    models: readonly DiscoveredModel[],
    checkedAt: string,
  ): Promise<ModelSetDiff | undefined> {
    const current = this.#models.get(endpointId);
    if (!current) return undefined;
    const diff = diffModelSets(current.keys(), models);
    const next = new Map<string, EndpointModel>();
    for (const m of models) {
      next.set(m.model_id, {
        endpoint_id: endpointId,
        model_id: m.model_id,
        capabilities: [...m.capabilities],
        last_checked: checkedAt,
      });
    }
    this.#models.set(endpointId, next);
    return diff;
  }

  async listEndpointModels(endpointId: string): Promise<EndpointModel[]> {
    const models = this.#models.get(endpointId);
    if (!models) return [];
    return [...models.values()]
      .sort((a, b) => (a.model_id < b.model_id ? -1 : a.model_id > b.model_id ? 1 : 0))
      .map(copyModel);
  }

  async listAllModels(): Promise<EndpointModel[]> {
    return [...this.#models.values()].flatMap((models) => [...models.values()].map(copyModel));
  }

  async recordHealthCheck(
    endpointId: string,
    patch: EndpointPatch,
    check: EndpointHealthCheck,
  ): Promise<EndpointRecord | undefined> {
    const history = this.#checks.get(endpointId);
    if (!history) return undefined;
    const updated = this.#update(endpointId, patch);
    if (!updated) return undefined;
    history.push({ ...check });
    return updated;
  }

  async listHealthChecks(endpointId: string, options: { limit?: number } = {}): Promise<EndpointHealthCheck[]> {
    const history = this.#checks.get(endpointId) ?? [];
    const newestFirst = [...history].sort((a, b) => b.checked_at.localeCompare(a.checked_at));
    return newestFirst.slice(0, options.limit ?? newestFirst.length).map((c) => ({ ...c }));
  }

  async deleteHealthChecksBefore(cutoff: string): Promise<number> {
    let deleted = 0;
    for (const [id, history] of this.#checks) {
      const kept = history.filter((c) => c.checked_at >= cutoff);
      deleted += history.length - kept.length;
      this.#checks.set(id, kept);
    }
    return deleted;
  }
}

function copyModel(model: EndpointModel): EndpointModel {
  return { ...model, capabilities: [...model.capabilities] };
}

/**
 * Storage that lives in process memory — the default when no `storage` option is given.
 *
 * @example
 * const router = createRouter({ storage: memoryStorage() });
 */
export function memoryStorage(): StorageAdapter {
  return new MemoryStorage();
}
