/**
 * The programmatic endpoint API (`router.endpoints`): SPEC §2 and §6 rules on top of the endpoint
 * store and the secret box. The HTTP routes are a thin translation onto these calls.
 */
import { randomUUID } from 'node:crypto';
import { type Clock, isoAt } from './clock.js';
import type { SecretBox } from './crypto.js';
import { LlmlbError, endpointNotFound } from './errors.js';
import type { HealthChecker } from './health/checker.js';
import type { FailureKind } from './health/transition.js';
import type { Logger } from './logger.js';
import type { ModelSync } from './models/sync.js';
import { probedModels } from './health/check.js';
import { type Probe, type ProbeTarget, probeTarget } from './health/probe.js';
import { openApiKey } from './crypto.js';
import {
  type CreateEndpointInput,
  type Endpoint,
  type EndpointHealthCheck,
  type EndpointPatch,
  type EndpointRecord,
  type EndpointType,
  type HealthCheckPageInput,
  type ListEndpointsFilter,
  type ModelMetadata,
  type UpdateEndpointInput,
  createEndpointInputSchema,
  endpointIdSchema,
  healthCheckPageSchema,
  listEndpointsFilterSchema,
  newEndpointRecord,
  parseOrThrow,
  toPublicEndpoint,
  updateEndpointInputSchema,
} from './schema.js';
import type { EndpointStore } from './store.js';
import type { UpstreamPolicy } from './upstream-policy.js';

/** An endpoint in a list: the endpoint plus how many models it serves. */
export type EndpointSummary = Endpoint & { model_count: number };

/**
 * The patch of an update's `type`: a type is the admin's and stays; null hands the type back to
 * detection (the next check re-detects it); absent changes nothing.
 */
function typePatch(type: EndpointType | null | undefined): EndpointPatch {
  if (type === undefined) return {};
  return type === null ? { type_source: 'detected' } : { type, type_source: 'admin' };
}

/** Result of `router.endpoints.list`. */
export interface EndpointList {
  endpoints: EndpointSummary[];
  total: number;
}

/** A model as shown in an endpoint's detail: its capabilities, where they come from, and what the backend told of it. */
export interface EndpointModelInfo extends ModelMetadata {
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

/** Result of a connection test (`router.endpoints.test`, `POST /v0/endpoints/:id/test`). */
export type ConnectionTestResult =
  | { success: true; latency_ms: number; endpoint_info: { version: string | null; model_count: number } }
  | { success: false; error: string; error_kind: FailureKind; latency_ms: null };

/** One page of an endpoint's health-check history (`router.endpoints.healthChecks`). */
export interface HealthCheckList {
  /** Newest first. */
  health_checks: EndpointHealthCheck[];
  /** Pass as `before` to get the next page; null on the last page. */
  next_before: string | null;
}

/** What {@link EndpointService} is built from. */
export interface EndpointServiceDeps {
  store: EndpointStore;
  secretBox: SecretBox | null;
  clock: Clock;
  logger: Logger;
  checker: HealthChecker;
  /** The health check's probe, for sync. */
  probe: Probe;
  /** Asks an upstream for its version (connection test). */
  probeVersion: (target: ProbeTarget) => Promise<string | null>;
  sync: ModelSync;
  /** Refuses base URLs outside the configured upstream hosts. */
  upstreamPolicy: UpstreamPolicy;
  /** Throws `not_ready` unless the router is started. */
  assertStarted: () => void;
}

/**
 * Create, read, update, delete, test and sync endpoints, and read their check history.
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
   * check — which also syncs its models — runs right away in the background. With `models` (a
   * static list, for a server that cannot list its models) that list is its model set from the
   * start, and checks only test that the server answers. `conflict` if its name or base_url is taken.
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
    const record = newEndpointRecord(id, data, data.api_key === undefined ? null : this.#seal(data.api_key, id), isoAt(this.#deps.clock));
    const created = await this.#deps.store.create(record);
    // A static list is the model set at once (checks store it again, unless they do not sync).
    if (created.static_models !== null) await this.#deps.sync(created.id, []);
    return toPublicEndpoint(created);
  }

  /** Lists endpoints, optionally filtered by status and admin state, each with its `model_count`. */
  async list(filter: ListEndpointsFilter = {}): Promise<EndpointList> {
    this.#deps.assertStarted();
    const { status, admin_state } = parseOrThrow(listEndpointsFilterSchema, filter, 'filter');
    const { registry } = this.#deps.store;
    const endpoints = registry
      .listEndpoints(status)
      .filter((record) => admin_state === undefined || record.admin_state === admin_state)
      .map((record) => ({ ...toPublicEndpoint(record), model_count: registry.modelCount(record.id) }));
    return { endpoints, total: endpoints.length };
  }

  /** One endpoint with its models; `not_found` if there is none with that id. */
  async get(id: string): Promise<EndpointDetail> {
    this.#deps.assertStarted();
    const record = this.#find(id);
    const models = this.#deps.store.registry
      .modelsOf(record.id)
      .map(({ endpoint_id: _endpoint, capabilities, ...model }) => ({ ...model, capabilities: [...capabilities] }));
    return { ...toPublicEndpoint(record), models };
  }

  /**
   * Changes an endpoint. `api_key: null` removes the credential, `notes: null` clears the notes,
   * `models` replaces the static model list and `models: null` goes back to discovering the
   * models; `base_url` cannot change (`validation_error`). A new credential, or a switch between
   * a static list and discovery, is checked at once.
   */
  async update(id: string, input: UpdateEndpointInput): Promise<Endpoint> {
    this.#deps.assertStarted();
    const data = parseOrThrow(updateEndpointInputSchema, input, 'endpoint update');
    const previous = this.#find(id);
    const patch: EndpointPatch = {
      name: data.name,
      health_check_interval_secs: data.health_check_interval_secs,
      inference_timeout_secs: data.inference_timeout_secs,
      notes: data.notes,
      admin_state: data.admin_state,
      max_concurrency: data.max_concurrency,
      priority: data.priority,
      weight: data.weight,
      static_models: data.models,
      ...typePatch(data.type),
      updated_at: isoAt(this.#deps.clock),
    };
    if (data.api_key !== undefined) {
      patch.api_key_encrypted = data.api_key === null ? null : this.#seal(data.api_key, previous.id);
    }
    const updated = await this.#deps.store.update(previous.id, patch);
    // A new static list is the model set at once; back to discovery, the next check finds the models.
    if (data.models) await this.#deps.sync(updated.id, []);
    return toPublicEndpoint(updated);
  }

  /** Deletes an endpoint with its models and history; `not_found` if there is none. */
  async delete(id: string): Promise<void> {
    this.#deps.assertStarted();
    const record = this.#find(id);
    if (!(await this.#deps.store.remove(record.id))) throw endpointNotFound(id);
  }

  /**
   * Connection test: checks the endpoint now (its status moves as with a scheduled check) and
   * reports the outcome, with the upstream's version when it tells (Ollama's `/api/version`,
   * else its `Server` header). Never throws for an unreachable endpoint; `not_found` for an
   * unknown id.
   */
  async test(id: string): Promise<ConnectionTestResult> {
    this.#deps.assertStarted();
    const record = this.#find(id);
    const report = await this.#deps.checker.check(record.id);
    if (!report.success) return { success: false, error: report.error, error_kind: report.kind, latency_ms: null };
    const version = (await this.#deps.probeVersion(this.#target(record))) ?? report.server;
    return { success: true, latency_ms: report.latency_ms, endpoint_info: { version, model_count: report.model_ids.length } };
  }

  /**
   * Fetches the endpoint's model list now and stores it (added, removed, updated). Throws
   * `endpoint_offline`, keeping the stored models, when the endpoint does not answer. Does not
   * change the endpoint's status.
   */
  async sync(id: string): Promise<SyncResult> {
    this.#deps.assertStarted();
    const record = this.#find(id);
    const probe = await this.#deps.probe(this.#target(record), new AbortController().signal);
    if (!probe.ok) {
      this.#deps.logger.warn({ endpoint_id: record.id, reason: probe.message }, 'model sync failed: endpoint did not answer');
      throw new LlmlbError('endpoint_offline', `endpoint ${record.name} did not answer: ${probe.message}`);
    }
    const diff = await this.#deps.sync(record.id, probedModels(probe));
    if (!diff) throw endpointNotFound(id);
    return {
      synced_models: this.#deps.store.registry
        .modelsOf(record.id)
        .map(({ model_id, capabilities }) => ({ model_id, capabilities: [...capabilities] })),
      added: diff.added.length,
      removed: diff.removed.length,
      updated: diff.updated.length,
    };
  }

  /**
   * One page of the endpoint's health-check history, newest first (kept `retentionDays`).
   * `not_found` for an unknown id, `validation_error` for a bad `limit` or `before`.
   */
  async healthChecks(id: string, page: HealthCheckPageInput = {}): Promise<HealthCheckList> {
    this.#deps.assertStarted();
    const { limit, before } = parseOrThrow(healthCheckPageSchema, page, 'health-check query');
    const record = this.#find(id);
    const rows = await this.#deps.store.healthChecks(record.id, before === undefined ? { limit } : { limit, before });
    const last = rows.length === limit ? rows[rows.length - 1] : undefined;
    return { health_checks: rows, next_before: last?.checked_at ?? null };
  }

  /** The stored record for an id (any non-UUID is simply not found). */
  #find(id: string): EndpointRecord {
    const record = endpointIdSchema.safeParse(id).success ? this.#deps.store.registry.getEndpoint(id) : undefined;
    if (!record) throw endpointNotFound(typeof id === 'string' ? id.slice(0, 100) : String(id));
    return record;
  }

  #target(record: EndpointRecord): ProbeTarget {
    return probeTarget(record, openApiKey(this.#deps.secretBox, record));
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
