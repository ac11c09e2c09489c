/** In-memory storage: for tests and ephemeral routers. Nothing survives the process. */
import type { NodePatch, NodeRecord } from '../../nodes/schema.js';
import type { DiscoveredModel, EndpointHealthCheck, EndpointModel, EndpointPatch, EndpointRecord, ModelSetDiff } from '../../schema.js';
import { conflictError, type UniqueField } from '../conflict.js';
import { DEFAULT_CHANGES_LIMIT, rowLimit } from '../limits.js';
import { planModelSet } from '../models-diff.js';
import { patchFields } from '../patch.js';
import { MemoryAliases } from './aliases.js';
import type { AliasRecord } from '../../alias-schema.js';
import type { AliasPatch } from '../alias-storage.js';
import type { NodeWrite } from '../nodes.js';
import type { ChangeBatch, ChangeKind, HealthCheckPage, Lease, StorageAdapter, StorageChange } from '../types.js';
import type { KeyPatch, KeyRecord, KeyUsageRange, KeyUsageRow } from '../key-types.js';
import { MemoryKeys } from './keys.js';
import { MemoryNodes } from './nodes.js';

/** A change-feed entry with the time it was recorded. */
interface StoredChange extends StorageChange {
  changed_at: string;
}

class MemoryStorage implements StorageAdapter {
  readonly kind = 'memory';
  #endpoints = new Map<string, EndpointRecord>();
  #models = new Map<string, Map<string, EndpointModel>>();
  /** History per endpoint, in the order it was recorded. */
  #checks = new Map<string, EndpointHealthCheck[]>();
  #changes: StoredChange[] = [];
  #lastSeq = 0;
  #leases = new Map<string, { holder: string; expires_at: number }>();
  readonly #keys = new MemoryKeys((id) => this.#recordChange(id, 'key'));
  readonly #aliases = new MemoryAliases((name) => this.#recordChange(name, 'alias'));
  readonly #nodes = new MemoryNodes();

  async init(): Promise<void> {}
  async close(): Promise<void> {}

  #assertUnique(candidate: Pick<EndpointRecord, 'id' | 'name' | 'base_url'>): void {
    for (const other of this.#endpoints.values()) {
      if (other.id === candidate.id) continue;
      for (const field of ['name', 'base_url'] as const satisfies UniqueField[]) {
        if (other[field] === candidate[field]) throw conflictError(field, candidate[field]);
      }
    }
  }

  #recordChange(subjectId: string, kind: ChangeKind): void {
    this.#changes.push({ seq: ++this.#lastSeq, subject_id: subjectId, kind, changed_at: new Date().toISOString() });
  }

  async insertEndpoint(record: EndpointRecord): Promise<void> {
    this.#insert(record);
  }

  #insert(record: EndpointRecord): void {
    if (this.#endpoints.has(record.id)) throw conflictError('id', record.id);
    this.#assertUnique(record);
    this.#endpoints.set(record.id, structuredClone(record));
    this.#models.set(record.id, new Map());
    this.#checks.set(record.id, []);
    this.#recordChange(record.id, 'endpoint');
  }

  async updateEndpoint(id: string, patch: EndpointPatch): Promise<EndpointRecord | undefined> {
    return this.#update(id, patch);
  }

  #update(id: string, patch: EndpointPatch): EndpointRecord | undefined {
    const current = this.#endpoints.get(id);
    if (!current) return undefined;
    const next = structuredClone({ ...current, ...patchFields(patch), version: current.version + 1 });
    this.#assertUnique(next);
    this.#endpoints.set(id, next);
    this.#recordChange(id, 'endpoint');
    return structuredClone(next);
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    this.#models.delete(id);
    this.#checks.delete(id);
    this.#nodes.delete(id);
    if (!this.#endpoints.delete(id)) return false;
    this.#recordChange(id, 'deleted');
    return true;
  }

  async insertNode(endpoint: EndpointRecord, node: NodeRecord): Promise<void> {
    this.#insert(endpoint);
    this.#nodes.put(node);
    this.#recordChange(endpoint.id, 'node');
  }

  async updateNode(endpointId: string, patch: NodePatch, endpointPatch?: EndpointPatch): Promise<NodeWrite | undefined> {
    const current = this.#endpoints.get(endpointId);
    if (!current || !this.#nodes.has(endpointId)) return undefined;
    // The endpoint first: a name conflict throws before anything is written.
    const endpoint = endpointPatch === undefined ? { ...current } : this.#update(endpointId, endpointPatch)!;
    const node = this.#nodes.patch(endpointId, patch);
    this.#recordChange(endpointId, 'node');
    return { endpoint, node };
  }

  async getNode(endpointId: string): Promise<NodeRecord | undefined> {
    return this.#nodes.get(endpointId);
  }

  async listNodes(): Promise<NodeRecord[]> {
    return this.#nodes.list();
  }

  async getEndpoint(id: string): Promise<EndpointRecord | undefined> {
    const record = this.#endpoints.get(id);
    return record && structuredClone(record);
  }

  async listEndpoints(): Promise<EndpointRecord[]> {
    return [...this.#endpoints.values()]
      .sort((a, b) => a.registered_at.localeCompare(b.registered_at) || a.id.localeCompare(b.id))
      .map((e) => structuredClone(e));
  }

  async replaceEndpointModels(
    endpointId: string,
    models: readonly DiscoveredModel[],
    checkedAt: string,
  ): Promise<ModelSetDiff | undefined> {
    const current = this.#models.get(endpointId);
    if (!current) return undefined;
    const plan = planModelSet(current, models);
    for (const id of plan.diff.removed) current.delete(id);
    for (const m of plan.rewrite) current.set(m.model_id, { ...m, endpoint_id: endpointId, last_checked: checkedAt });
    for (const id of plan.touch) current.get(id)!.last_checked = checkedAt;
    if (plan.changed) this.#recordChange(endpointId, 'models');
    return plan.diff;
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

  async listHealthChecks(endpointId: string, page: HealthCheckPage = {}): Promise<EndpointHealthCheck[]> {
    const { before } = page;
    // Latest recorded first, then a stable sort by time: equal times keep latest first.
    const newestFirst = [...(this.#checks.get(endpointId) ?? [])]
      .reverse()
      .filter((c) => before === undefined || c.checked_at < before)
      .sort((a, b) => (a.checked_at < b.checked_at ? 1 : a.checked_at > b.checked_at ? -1 : 0));
    return newestFirst.slice(0, rowLimit(page.limit)).map((c) => ({ ...c }));
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

  async latestChange(): Promise<number> {
    return this.#changes.at(-1)?.seq ?? 0;
  }

  async changesSince(cursor: number, limit = DEFAULT_CHANGES_LIMIT): Promise<ChangeBatch> {
    const changes = this.#changes
      .filter((c) => c.seq > cursor)
      .slice(0, rowLimit(limit))
      .map(({ seq, subject_id, kind }) => ({ seq, subject_id, kind }));
    return { changes, cursor: changes.at(-1)?.seq ?? cursor };
  }

  async deleteChangesBefore(cutoff: string): Promise<number> {
    const before = this.#changes.length;
    this.#changes = this.#changes.filter((c) => c.changed_at >= cutoff);
    return before - this.#changes.length;
  }

  async tryLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    const lease = this.#leases.get(name);
    if (lease !== undefined && lease.holder !== holder && lease.expires_at > now) return false;
    this.#leases.set(name, { holder, expires_at: now + ttlMs });
    return true;
  }

  async renewLeases(holder: string, prefix: string, ttlMs: number, now: number): Promise<string[]> {
    const renewed = this.#liveLeases(prefix, now).filter((lease) => lease.holder === holder);
    for (const { name } of renewed) this.#leases.set(name, { holder, expires_at: now + ttlMs });
    return renewed.map((lease) => lease.name);
  }

  async listLeases(prefix: string, now: number): Promise<Lease[]> {
    return this.#liveLeases(prefix, now);
  }

  #liveLeases(prefix: string, now: number): Lease[] {
    return [...this.#leases]
      .filter(([name, lease]) => name.startsWith(prefix) && lease.expires_at > now)
      .map(([name, lease]) => ({ name, ...lease }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    if (this.#leases.get(name)?.holder === holder) this.#leases.delete(name);
  }

  insertKey(record: KeyRecord): Promise<void> {
    return this.#keys.insertKey(record);
  }

  updateKey(id: string, patch: KeyPatch): Promise<KeyRecord | undefined> {
    return this.#keys.updateKey(id, patch);
  }

  consumeKey(id: string, at: string): Promise<boolean> {
    return this.#keys.consumeKey(id, at);
  }

  getKey(id: string): Promise<KeyRecord | undefined> {
    return this.#keys.getKey(id);
  }

  listKeys(): Promise<KeyRecord[]> {
    return this.#keys.listKeys();
  }

  deleteKeysRevokedBefore(cutoff: string): Promise<number> {
    return this.#keys.deleteKeysRevokedBefore(cutoff);
  }

  addKeyUsage(rows: readonly KeyUsageRow[]): Promise<void> {
    return this.#keys.addKeyUsage(rows);
  }

  listKeyUsage(keyId: string, range: KeyUsageRange): Promise<KeyUsageRow[]> {
    return this.#keys.listKeyUsage(keyId, range);
  }

  deleteKeyUsageBefore(cutoff: string): Promise<number> {
    return this.#keys.deleteKeyUsageBefore(cutoff);
  }

  insertAlias(record: AliasRecord): Promise<void> {
    return this.#aliases.insertAlias(record);
  }

  updateAlias(name: string, patch: AliasPatch): Promise<AliasRecord | undefined> {
    return this.#aliases.updateAlias(name, patch);
  }

  deleteAlias(name: string): Promise<boolean> {
    return this.#aliases.deleteAlias(name);
  }

  getAlias(name: string): Promise<AliasRecord | undefined> {
    return this.#aliases.getAlias(name);
  }

  listAliases(): Promise<AliasRecord[]> {
    return this.#aliases.listAliases();
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
