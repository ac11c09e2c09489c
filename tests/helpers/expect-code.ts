/** Asserting that a call of the programmatic API rejects with a given llmlb error code. */
import { expect } from 'vitest';
import { LlmlbError } from '../../src/errors.js';

/**
 * Asserts that `promise` rejects with an {@link LlmlbError} of `code`; returns the error.
 *
 * @example
 * await expectCode(router.endpoints.get('nope'), 'not_found');
 */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<LlmlbError> {
  const err = await promise.then(
    () => {
      throw new Error(`expected ${code}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LlmlbError);
  expect((err as LlmlbError).code).toBe(code);
  return err as LlmlbError;
}
