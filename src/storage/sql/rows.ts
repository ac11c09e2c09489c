/** Conversions between llmlb's domain records and the rows of its SQL tables. */
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Capability, EndpointHealthCheck, EndpointModel, EndpointPatch, EndpointRecord, ModelMetadata } from '../../schema.js';
import { staticModelsColumn } from '../../static-models.js';
import type { CompleteModel, StoredModelFacts } from '../models-diff.js';
import { patchFields } from '../patch.js';
import type { StorageChange } from '../types.js';
import type { SqlColumnTypes } from './dialect.js';
import type {
  ChangesTable,
  EndpointHealthChecksTable,
  EndpointModelsTable,
  EndpointsTable,
} from './tables.js';

/**
 * The row of an endpoint record (every column, so nothing falls back to a default).
 *
 * @example
 * await db.insertInto('endpoints').values(toEndpointRow(record)).execute();
 */
export function toEndpointRow(record: EndpointRecord): Insertable<EndpointsTable> {
  return {
    id: record.id,
    name: record.name,
    base_url: record.base_url,
    api_key_encrypted: record.api_key_encrypted,
    status: record.status,
    admin_state: record.admin_state,
    max_concurrency: record.max_concurrency,
    priority: record.priority,
    weight: record.weight,
    type: record.type,
    type_source: record.type_source,
    health_check_interval_secs: record.health_check_interval_secs,
    inference_timeout_secs: record.inference_timeout_secs,
    latency_ms: record.latency_ms,
    last_seen: record.last_seen,
    last_error: record.last_error,
    error_count: record.error_count,
    registered_at: record.registered_at,
    updated_at: record.updated_at,
    notes: record.notes,
    static_models: staticModelsColumn.write(record.static_models),
    version: record.version,
  };
}

/** The columns a patch sets (`static_models` as its JSON text). */
export function toEndpointPatchRow(patch: EndpointPatch): Updateable<EndpointsTable> {
  const { static_models, ...fields } = patchFields(patch);
  return static_models === undefined ? fields : { ...fields, static_models: staticModelsColumn.write(static_models) };
}

/** The endpoint record of a row. */
export function toEndpointRecord(row: Selectable<EndpointsTable>): EndpointRecord {
  return {
    id: row.id,
    name: row.name,
    base_url: row.base_url,
    api_key_encrypted: row.api_key_encrypted,
    status: row.status,
    admin_state: row.admin_state,
    max_concurrency: intOrNull(row.max_concurrency),
    priority: Number(row.priority),
    weight: Number(row.weight),
    type: row.type,
    type_source: row.type_source,
    health_check_interval_secs: Number(row.health_check_interval_secs),
    inference_timeout_secs: Number(row.inference_timeout_secs),
    latency_ms: intOrNull(row.latency_ms),
    last_seen: row.last_seen,
    last_error: row.last_error,
    error_count: Number(row.error_count),
    registered_at: row.registered_at,
    updated_at: row.updated_at,
    notes: row.notes,
    static_models: staticModelsColumn.read(row.static_models),
    version: Number(row.version),
  };
}

/** The row of a discovered model of `endpointId` (metadata completed), checked at `checkedAt`; booleans as the dialect stores them. */
export function toModelRow(endpointId: string, model: CompleteModel, checkedAt: string, columns: SqlColumnTypes): Insertable<EndpointModelsTable> {
  return {
    endpoint_id: endpointId,
    model_id: model.model_id,
    capabilities: JSON.stringify(model.capabilities),
    last_checked: checkedAt,
    capabilities_source: model.capabilities_source,
    context_length: model.context_length,
    loaded: model.loaded === null || columns.boolean !== 'integer' ? model.loaded : Number(model.loaded),
    size_bytes: model.size_bytes,
    quantization: model.quantization,
  };
}

/** The stored facts of a model row (what a sync compares). */
export function toModelFacts(row: Pick<Selectable<EndpointModelsTable>, 'capabilities' | keyof ModelMetadata>): StoredModelFacts & { capabilities: Capability[] } {
  return {
    capabilities: parseCapabilities(row.capabilities),
    capabilities_source: row.capabilities_source,
    context_length: intOrNull(row.context_length),
    loaded: row.loaded === null ? null : Number(row.loaded) === 1,
    size_bytes: intOrNull(row.size_bytes),
    quantization: row.quantization,
  };
}

/** The stored model of a row. */
export function toEndpointModel(row: Selectable<EndpointModelsTable>): EndpointModel {
  return { endpoint_id: row.endpoint_id, model_id: row.model_id, ...toModelFacts(row), last_checked: row.last_checked };
}

/**
 * The history row of a check, recorded by the write at feed position `changeSeq`; `success` is
 * stored as the dialect's booleans.
 */
export function toHealthCheckRow(
  check: EndpointHealthCheck,
  endpointId: string,
  changeSeq: number,
  columns: SqlColumnTypes,
): Insertable<EndpointHealthChecksTable> {
  return {
    id: check.id,
    endpoint_id: endpointId,
    checked_at: check.checked_at,
    success: columns.boolean === 'integer' ? Number(check.success) : check.success,
    latency_ms: check.latency_ms,
    error_message: check.error_message,
    status_before: check.status_before,
    status_after: check.status_after,
    change_seq: changeSeq,
  };
}

/** The health check of a history row. */
export function toHealthCheck(row: Selectable<EndpointHealthChecksTable>): EndpointHealthCheck {
  return {
    id: row.id,
    endpoint_id: row.endpoint_id,
    checked_at: row.checked_at,
    success: Number(row.success) === 1,
    latency_ms: intOrNull(row.latency_ms),
    error_message: row.error_message,
    status_before: row.status_before,
    status_after: row.status_after,
  };
}

/** The change of a feed row. */
export function toStorageChange(row: Pick<Selectable<ChangesTable>, 'seq' | 'subject_id' | 'kind'>): StorageChange {
  return { seq: Number(row.seq), subject_id: row.subject_id, kind: row.kind };
}

/** The capabilities stored in an `endpoint_models.capabilities` column. */
export function parseCapabilities(text: string): Capability[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || !value.every((c): c is string => typeof c === 'string')) {
    throw new Error('endpoint_models.capabilities is not a JSON array of strings');
  }
  return value;
}

function intOrNull(value: number | bigint | string | null): number | null {
  return value === null ? null : Number(value);
}
