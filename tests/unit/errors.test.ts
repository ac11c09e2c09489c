/**
 * LlmlbError across copies of the package: the CommonJS build (`dist/index.cjs`, built by the
 * global setup) holds its own LlmlbError class; errors from either copy are recognised by both.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { HTTP_STATUS_BY_CODE, LlmlbError, isLlmlbError, toLlmlbError } from '../../src/errors.js';

const require = createRequire(import.meta.url);
const cjs = require('../../dist/index.cjs') as typeof import('../../src/index.js');

describe('LlmlbError across package copies', () => {
  it('the CommonJS build is a separate copy of the class', () => {
    expect(cjs.LlmlbError).not.toBe(LlmlbError);
  });

  it('recognises an error from the CommonJS copy here', () => {
    const foreign = new cjs.LlmlbError('not_found', 'endpoint "x" not found');
    expect(foreign instanceof LlmlbError).toBe(true);
    expect(isLlmlbError(foreign)).toBe(true);
    expect(isLlmlbError(foreign, 'not_found')).toBe(true);
    expect(isLlmlbError(foreign, 'conflict')).toBe(false);
    expect(toLlmlbError(foreign)).toBe(foreign);
    expect(foreign.status).toBe(404);
  });

  it('recognises an error from here in the CommonJS copy', () => {
    const local = new LlmlbError('conflict', 'taken');
    expect(local instanceof cjs.LlmlbError).toBe(true);
    expect(cjs.isLlmlbError(local, 'conflict')).toBe(true);
    expect(cjs.isLlmlbError(local, 'not_found')).toBe(false);
  });

  it('recognises an object carrying the brand, and nothing without it', () => {
    const branded = Object.assign(new Error('x'), { [Symbol.for('llmlb.error')]: true, code: 'forbidden' });
    expect(branded instanceof LlmlbError).toBe(true);
    expect(isLlmlbError(branded, 'forbidden')).toBe(true);
    for (const value of [new Error('x'), { code: 'not_found' }, { [Symbol.for('llmlb.error')]: 'yes' }, null, 'not_found', undefined]) {
      expect(value instanceof LlmlbError).toBe(false);
      expect(isLlmlbError(value)).toBe(false);
    }
    const wrapped = toLlmlbError(new Error('boom'));
    expect(wrapped).toMatchObject({ code: 'internal_error', message: 'internal error' });
  });

  it('subclasses keep ordinary instanceof', () => {
    class SpecialError extends LlmlbError {}
    expect(new SpecialError('conflict', 'x') instanceof SpecialError).toBe(true);
    expect(new SpecialError('conflict', 'x') instanceof LlmlbError).toBe(true);
    expect(new LlmlbError('conflict', 'x') instanceof SpecialError).toBe(false);
    expect(new cjs.LlmlbError('conflict', 'x') instanceof SpecialError).toBe(false);
  });

  it('does not show the brand in JSON or keys', () => {
    const err = new LlmlbError('not_found', 'gone');
    expect(Object.keys(err)).not.toContain('llmlb.error');
    expect(Object.getOwnPropertySymbols(err)).toEqual([]);
  });
});

describe('not_ready', () => {
  it('maps to 503', () => {
    expect(HTTP_STATUS_BY_CODE.not_ready).toBe(503);
    expect(new LlmlbError('not_ready', 'starting').status).toBe(503);
  });
});

describe('storage_unavailable', () => {
  it('maps to 503 (the database cannot be reached; routing goes on)', () => {
    expect(HTTP_STATUS_BY_CODE.storage_unavailable).toBe(503);
    expect(new LlmlbError('storage_unavailable', 'down').status).toBe(503);
  });
});
