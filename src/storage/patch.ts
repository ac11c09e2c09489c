/** Endpoint patches as every storage adapter applies them. */
import type { EndpointPatch } from '../schema.js';

/** Every field an {@link EndpointPatch} may set; the type makes this list exhaustive. */
const PATCHABLE: Readonly<Record<keyof EndpointPatch, true>> = Object.freeze({
  name: true,
  api_key_encrypted: true,
  status: true,
  admin_state: true,
  max_concurrency: true,
  priority: true,
  weight: true,
  type: true,
  type_source: true,
  health_check_interval_secs: true,
  inference_timeout_secs: true,
  latency_ms: true,
  last_seen: true,
  last_error: true,
  error_count: true,
  updated_at: true,
  notes: true,
  static_models: true,
});
const PATCH_KEYS = Object.keys(PATCHABLE) as (keyof EndpointPatch)[];

/**
 * The fields of `patch` among `keys` whose value is not `undefined` (`null` is a value); anything
 * else in the object is ignored. Shared by the patches of every record kind.
 */
export function definedFields<T extends object>(patch: T, keys: readonly (keyof T)[]): T {
  const fields: Partial<T> = {};
  for (const key of keys) if (patch[key] !== undefined) fields[key] = patch[key];
  return fields as T;
}

/** The fields an endpoint patch really sets (see {@link definedFields}). */
export function patchFields(patch: EndpointPatch): EndpointPatch {
  return definedFields(patch, PATCH_KEYS);
}
