/** The `conflict` error every storage adapter raises when a unique field is already taken. */
import { LlmlbError } from '../errors.js';
import type { EndpointRecord } from '../schema.js';

/** The endpoint fields that must be unique across all endpoints. */
export type UniqueField = keyof Pick<EndpointRecord, 'id' | 'name' | 'base_url'>;

/**
 * `conflict` naming the field that collided and the value tried (never other fields of the
 * record, which may hold secrets); `details` carries the field as a validation path.
 *
 * @example
 * throw conflictError('name', record.name);
 */
export function conflictError(field: UniqueField, value: string | undefined, cause?: unknown): LlmlbError {
  const shown = field === 'name' ? JSON.stringify(value) : String(value);
  return new LlmlbError('conflict', `an endpoint with ${field} ${shown} already exists`, {
    details: [{ path: field, message: 'already taken' }],
    cause,
  });
}

/**
 * `conflict` for an alias name that is already taken.
 *
 * @example
 * throw aliasConflictError('llama3.1');
 */
export function aliasConflictError(name: string): LlmlbError {
  return new LlmlbError('conflict', `an alias named ${JSON.stringify(name)} already exists`, {
    details: [{ path: 'name', message: 'already taken' }],
  });
}
