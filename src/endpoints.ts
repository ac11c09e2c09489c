/**
 * The programmatic endpoint API (`router.endpoints`): SPEC §2 and §6 rules on top of storage,
 * the registry and the secret box. The HTTP routes are a thin translation onto these calls.
 */
import { randomUUID } from 'node:crypto';
import { type Clock, isoAt } from './clock.js';
import type { SecretBox } from './crypto.js';
import { LlmlbError, endpointNotFound } from './errors.js';
import type { ConnectionTestResult, HealthChecker } from './health/checker.js';
import type { Registry } from './registry.js';
import {
  type CreateEndpointInput,
  type Endpoint,
  type EndpointPatch,
  type EndpointRecord,
  type ListEndpointsFilter,
  type UpdateEndpointInput,
  createEndpointInputSchema,
  endpointIdSchema,
  listEndpointsFilterSchema,
  parseOrThrow,
  toPublicEndpoint,
  updateEndpointInputSchema,
} from './schema.js';
import type { StorageAdapter } from './storage/types.js';
import type { UpstreamPolicy } from './upstream-policy.js';

/** An endpoint in a list: the endpoint plus how many models it serves. */
export type EndpointSummary = Endpoint & { model_count: number };

/** Result of `router.endpoints.list`. */
export interface EndpointList {
  endpoints: EndpointSummary[];
  total: number;
}

/** A model as shown in an endpoint's detail. */
export interface EndpointModelInfo {
  model_id: string;
  capabilities: string[];
  last_checked: string;
}

/** Result of `router.endpoints.get`: the endpoint with its models. */
export type EndpointDetail = Endpoint & { models: EndpointModelInfo[] };

/** Result of `router.endpoints.sync`. */
export interface SyncResult {
  synced_models: { model_id: string; capabilities: string[] }[];
  /** How many models appeared, disappeared and were refreshed. */
  added: number;
  removed: number;
  updated: number;
}

/** What {@link EndpointService} is built from. */
export interface EndpointServiceDeps {
  storage: StorageAdapter;
  registry: Registry;
  secretBox: SecretBox | null;
  clock: Clock;
  checker: HealthChecker;
  /** Refuses base URLs outside the configured upstream hosts. */
  upstreamPolicy: UpstreamPolicy;
  /** Called after an endpoint was deleted. */
  onDelete: (id: string) => void;
  /** Throws unless the router is started. */
  assertStarted: () => void;
}

/**
 * Create, read, update, delete, test and sync endpoints.
 *
 * @example
 * const endpoint = await router.endpoints.create({ name: 'gpu-1', base_url: 'http://10.0.0.5:11434' });
 * await router.endpoints.update(endpoint.id, { notes: 'rack 3' });
 */
export class EndpointService {
  readonly #deps: EndpointServiceDeps;

  constructor(deps: EndpointServiceDeps) {
    this.#deps = deps;
  }

  /**
   * Registers an endpoint; it starts `pending` and the call returns at once. A first health
   * check — which also syncs its models — runs right away in the background.
   * `conflict` if its name or base_url is taken.
   */
  async create(input: CreateEndpointInput): Promise<Endpoint> {
    this.#deps.assertStarted();
    const data = parseOrThrow(createEndpointInputSchema, input, 'endpoint');
    const refusal = this.#deps.upstreamPolicy(data.base_url);
    if (refusal !== null) {
      throw new LlmlbError('validation_error', `invalid endpoint: base_url: ${refusal}`, {
        details: [{ path: 'base_url', message: refusal }],
      });
    }
    const id = randomUUID();
    const now = isoAt(this.#deps.clock);
    const record: EndpointRecord = {
      id,
      name: data.name,
      base_url: data.base_url,
      api_key_encrypted: data.api_key === undefined ? null : this.#seal(data.api_key, id),
      status: 'pending',
      health_check_interval_secs: data.health_check_interval_secs,
      inference_timeout_secs: data.inference_timeout_secs,
      latency_ms: null,
      last_seen: null,
      last_error: null,
      error_count: 0,
      registered_at: now,
      updated_at: now,
      notes: data.notes ?? null,
    };
    await this.#deps.storage.insertEndpoint(record);
    this.#deps.registry.upsertEndpoint(record);
    this.#deps.checker.track(record);
    return toPublicEndpoint(record);
  }

  /** Lists endpoints, optionally filtered by status, each with its `model_count`. */
  async list(filter: ListEndpointsFilter = {}): Promise<EndpointList> {
    this.#deps.assertStarted();
    const { status } = parseOrThrow(listEndpointsFilterSchema, filter, 'filter');
    const { registry } = this.#deps;
    const endpoints = registry
      .listEndpoints(status)
      .map((record) => ({ ...toPublicEndpoint(record), model_count: registry.modelCount(record.id) }));
    return { endpoints, total: endpoints.length };
  }

  /** One endpoint with its models; `not_found` if there is none with that id. */
  async get(id: string): Promise<EndpointDetail> {
    this.#deps.assertStarted();
    const record = this.#find(id);
    const models = this.#deps.registry
      .modelsOf(record.id)
      .map(({ model_id, capabilities, last_checked }) => ({ model_id, capabilities: [...capabilities], last_checked }));
    return { ...toPublicEndpoint(record), models };
  }

  /**
   * Changes an endpoint. `api_key: null` removes the credential, `notes: null` clears the notes;
   * `base_url` cannot change (`validation_error`).
   */
  async update(id: string, input: UpdateEndpointInput): Promise<Endpoint> {
    this.#deps.assertStarted();
    const data = parseOrThrow(updateEndpointInputSchema, input, 'endpoint update');
    const previous = this.#find(id);
    const patch: EndpointPatch = {};
    if (data.name !== undefined) patch.name = data.name;
    if (data.health_check_interval_secs !== undefined) patch.health_check_interval_secs = data.health_check_interval_secs;
    if (data.inference_timeout_secs !== undefined) patch.inference_timeout_secs = data.inference_timeout_secs;
    if (data.notes !== undefined) patch.notes = data.notes;
    if (data.api_key !== undefined) {
      patch.api_key_encrypted = data.api_key === null ? null : this.#seal(data.api_key, previous.id);
    }
    patch.updated_at = isoAt(this.#deps.clock);
    const record = await this.#deps.storage.updateEndpoint(previous.id, patch);
    if (!record) throw endpointNotFound(id);
    this.#deps.registry.upsertEndpoint(record);
    this.#deps.checker.retrack(record, previous);
    return toPublicEndpoint(record);
  }

  /** Deletes an endpoint with its models and history; `not_found` if there is none. */
  async delete(id: string): Promise<void> {
    this.#deps.assertStarted();
    const record = this.#find(id);
    const existed = await this.#deps.storage.deleteEndpoint(record.id);
    this.#deps.registry.removeEndpoint(record.id);
    if (!existed) throw endpointNotFound(id);
    this.#deps.checker.untrack(record.id);
    this.#deps.onDelete(record.id);
  }

  /**
   * Connection test: checks the endpoint now (its status moves as with a scheduled check) and
   * reports the outcome. Never throws for an unreachable endpoint; `not_found` for an unknown id.
   */
  async test(id: string): Promise<ConnectionTestResult> {
    this.#deps.assertStarted();
    return this.#deps.checker.test(this.#find(id).id);
  }

  /**
   * Fetches the endpoint's model list now and stores it (added, removed, updated). Throws
   * `endpoint_offline`, keeping the stored models, when the endpoint does not answer.
   */
  async sync(id: string): Promise<SyncResult> {
    this.#deps.assertStarted();
    const { models, diff } = await this.#deps.checker.sync(this.#find(id).id);
    return {
      synced_models: models.map(({ model_id, capabilities }) => ({ model_id, capabilities: [...capabilities] })),
      added: diff.added.length,
      removed: diff.removed.length,
      updated: diff.updated.length,
    };
  }

  /** The stored record for an id (any non-UUID is simply not found). */
  #find(id: string): EndpointRecord {
    const record = endpointIdSchema.safeParse(id).success ? this.#deps.registry.getEndpoint(id) : undefined;
    if (!record) throw endpointNotFound(typeof id === 'string' ? id.slice(0, 100) : String(id));
    return record;
  }

  #seal(apiKey: string, endpointId: string): string {
    const box = this.#deps.secretBox;
    if (!box) {
      throw new LlmlbError(
        'invalid_request',
        'an api_key was given but the router has no secret configured to encrypt it; set the `secret` option (LLMLB_SECRET)',
      );
    }
    return box.seal(apiKey, endpointId);
  }
}
