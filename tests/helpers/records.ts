/**
 * Factories for stored rows (`EndpointRecord`, `EndpointHealthCheck`) shared by the storage,
 * registry and contract tests, and the documented state of a newly registered endpoint.
 *
 * Every factory returns a fresh, valid object; `overrides` win over every default, so a test
 * spells out only the fields it is about.
 */
import { randomUUID } from 'node:crypto';
import type { EndpointHealthCheck, EndpointModel, EndpointRecord } from '../../src/schema.js';

/** Fixed timestamps one second apart. Records are stamped {@link T0}, health checks {@link T1}. */
export const T0 = '2025-01-01T00:00:00.000Z';
export const T1 = '2025-01-01T00:00:01.000Z';
export const T2 = '2025-01-01T00:00:02.000Z';
export const T3 = '2025-01-01T00:00:03.000Z';

/**
 * What a newly registered endpoint looks like when the input left these fields out
 * (docs/api.md): pending, enabled, checked every 30 s, a 120 s inference timeout, no check run
 * yet.
 * Tests of `create` assert it; {@link makeEndpointRecord} starts from it.
 *
 * @example
 * expect(created).toMatchObject({ ...NEW_ENDPOINT_DEFAULTS, name: 'gpu-1', notes: null });
 */
export const NEW_ENDPOINT_DEFAULTS = {
  status: 'pending',
  admin_state: 'enabled',
  max_concurrency: null,
  priority: 0,
  weight: 1,
  type: 'openai-compatible',
  type_source: 'detected',
  health_check_interval_secs: 30,
  inference_timeout_secs: 120,
  latency_ms: null,
  last_seen: null,
  last_error: null,
  error_count: 0,
  static_models: null,
} as const satisfies Partial<EndpointRecord>;

/**
 * A valid stored endpoint: a random UUID `id`, a `name` (`endpoint-<first 8 of id>`) and a
 * `base_url` (`http://host-<first 8 of id>.test:11434`) unique per call, no api key, no notes,
 * {@link NEW_ENDPOINT_DEFAULTS}, registered and updated at {@link T0}, version 1. `overrides` win.
 *
 * @example
 * const online = makeEndpointRecord({ status: 'online', registered_at: T1 });
 * const clash = makeEndpointRecord({ name: online.name }); // same name, new id and base_url
 */
export function makeEndpointRecord(overrides: Partial<EndpointRecord> = {}): EndpointRecord {
  const id = randomUUID();
  const short = id.slice(0, 8);
  return {
    id,
    name: `endpoint-${short}`,
    base_url: `http://host-${short}.test:11434`,
    api_key_encrypted: null,
    ...NEW_ENDPOINT_DEFAULTS,
    registered_at: T0,
    updated_at: T0,
    notes: null,
    version: 1,
    ...overrides,
  };
}

/**
 * A successful health-check row for `endpointId`: a random UUID `id`, checked at {@link T1},
 * 42 ms, pending → online. `overrides` win.
 *
 * @example
 * await storage.recordHealthCheck(record.id, { status: 'online' }, makeHealthCheck(record.id, { latency_ms: 9 }));
 */
export function makeHealthCheck(endpointId: string, overrides: Partial<EndpointHealthCheck> = {}): EndpointHealthCheck {
  return {
    id: randomUUID(),
    endpoint_id: endpointId,
    checked_at: T1,
    success: true,
    latency_ms: 42,
    error_message: null,
    status_before: 'pending',
    status_after: 'online',
    ...overrides,
  };
}

/**
 * A stored model of `endpointId`: chat, capabilities guessed by name, no metadata, checked at
 * {@link T0}. `overrides` win.
 *
 * @example
 * registry.load([endpoint], [makeEndpointModel(endpoint.id, 'llama3.1:8b', { loaded: true })]);
 */
export function makeEndpointModel(endpointId: string, modelId: string, overrides: Partial<EndpointModel> = {}): EndpointModel {
  return {
    endpoint_id: endpointId,
    model_id: modelId,
    capabilities: ['chat'],
    last_checked: T0,
    capabilities_source: 'name',
    context_length: null,
    loaded: null,
    size_bytes: null,
    quantization: null,
    ...overrides,
  };
}
