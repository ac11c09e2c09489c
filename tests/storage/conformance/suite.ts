/**
 * What every file of the storage conformance suite shares: the adapter under test, a way to
 * insert records, and assertions.
 */
import { expect } from 'vitest';
import { LlmlbError } from '../../../src/errors.js';
import type { DiscoveredModel, EndpointRecord } from '../../../src/schema.js';
import type { UniqueField } from '../../../src/storage/conflict.js';
import type { StorageAdapter } from '../../../src/storage/types.js';

/** The state of one conformance case, set up afresh before each. */
export interface Suite {
  /** The adapter under test: new, empty and initialised. */
  readonly storage: StorageAdapter;
  /** A new adapter on the same data, when the adapter persists; not yet initialised. */
  readonly reopen: (() => Promise<StorageAdapter>) | undefined;
  /** Closes `storage` after the case too. */
  track(storage: StorageAdapter): StorageAdapter;
  /** A new `makeEndpointRecord` record (with `overrides`), inserted into the adapter under test. */
  inserted(overrides?: Partial<EndpointRecord>): Promise<EndpointRecord>;
}

/** A chat model. */
export const CHAT: DiscoveredModel = { model_id: 'llama3.1:8b', capabilities: ['chat'] };
/** An embeddings model. */
export const EMBED: DiscoveredModel = { model_id: 'nomic-embed-text', capabilities: ['embeddings'] };

/**
 * Asserts that `promise` rejects with `conflict` and returns the error. With `clash`, also that
 * the message names the field and the value tried, and `details` points at the field.
 */
export async function expectConflict(
  promise: Promise<unknown>,
  clash?: { field: UniqueField; value: string },
): Promise<LlmlbError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LlmlbError);
  const llmlbError = error as LlmlbError;
  expect(llmlbError.code).toBe('conflict');
  if (clash !== undefined) {
    expect(llmlbError.message).toContain(clash.field);
    expect(llmlbError.message).toContain(clash.value);
    expect(llmlbError.details).toStrictEqual([{ path: clash.field, message: 'already taken' }]);
  }
  return llmlbError;
}

/** Orders models by endpoint, then model id. */
export function byModelKey(a: { endpoint_id: string; model_id: string }, b: { endpoint_id: string; model_id: string }): number {
  return a.endpoint_id.localeCompare(b.endpoint_id) || a.model_id.localeCompare(b.model_id);
}
