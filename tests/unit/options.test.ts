/** Options parsing: messages name the bad option by its path and say what is expected. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LlmlbError } from '../../src/errors.js';
import { authOptionSchema } from '../../src/http/auth.js';
import { createHandler } from '../../src/http/handler.js';
import { optionUnion, parseOptions } from '../../src/options.js';
import { createRouter } from '../../src/router.js';

const KEY = 'options-test-key-0123456789';

/** Expects `fn` to throw an `invalid_request` LlmlbError whose fields match `fields`. */
function expectInvalid(fn: () => unknown, fields: { message: unknown; details?: unknown }): void {
  expect(fn).toThrow(LlmlbError);
  expect(fn).toThrow(expect.objectContaining({ code: 'invalid_request', ...fields }));
}

describe('parseOptions', () => {
  const schema = z.strictObject({
    name: z.string().min(3),
    size: z.number().int().min(1024).max(4096).optional(),
    mode: z.enum(['fast', 'safe']).optional(),
    tags: z.array(z.string()).min(1).optional(),
    flag: z.literal(true).optional(),
  });

  it('returns the parsed value', () => {
    expect(parseOptions(schema, { name: 'abc', size: 2048 }, 'test options')).toEqual({ name: 'abc', size: 2048 });
  });

  it.each([
    [{}, 'name: is required'],
    [{ name: 5 }, 'name: must be a string'],
    [{ name: 'ab' }, 'name: must be at least 3 characters'],
    [{ name: 'abc', size: 1.5 }, 'size: must be an integer'],
    [{ name: 'abc', size: 10 }, 'size: must be at least 1024'],
    [{ name: 'abc', size: 5000 }, 'size: must be at most 4096'],
    [{ name: 'abc', mode: 'slow' }, 'mode: must be one of fast, safe'],
    [{ name: 'abc', tags: [] }, 'tags: must have at least 1 entry'],
    [{ name: 'abc', tags: ['a', 2] }, 'tags.1: must be a string'],
    [{ name: 'abc', flag: false }, 'flag: must be true'],
    [{ name: 'abc', nmae: 'x' }, 'unknown option "nmae"'],
    [{ name: 'abc', a: 1, b: 2 }, 'unknown options "a", "b"'],
    ['abc', 'must be an object'],
  ])('%j → "%s"', (value, message) => {
    expectInvalid(() => parseOptions(schema, value, 'test options'), { message: `invalid test options: ${message}` });
  });

  it('lists every problem, with details by path', () => {
    expectInvalid(() => parseOptions(schema, { name: 1, size: 'big', extra: true }, 'test options'), {
      message: 'invalid test options: name: must be a string; size: must be a number; unknown option "extra"',
      details: [
        { path: 'name', message: 'must be a string' },
        { path: 'size', message: 'must be a number' },
        { path: '', message: 'unknown option "extra"' },
      ],
    });
  });

  it('keeps a schema’s own messages', () => {
    const own = z.strictObject({ prefix: z.string().regex(/^\//, 'must start with "/"') });
    expectInvalid(() => parseOptions(own, { prefix: 'x' }, 'o'), { message: 'invalid o: prefix: must start with "/"' });
  });

  it('says what a plain union accepts, from its forms', () => {
    const union = z.strictObject({ limit: z.union([z.literal(false), z.number(), z.object({ max: z.number() })]) });
    expectInvalid(() => parseOptions(union, { limit: 'x' }, 'o'), { message: 'invalid o: limit: must be false, a number, or an object' });
  });
});

describe('optionUnion', () => {
  const schema = optionUnion('must be "off", or { level: 1–3 }', [z.literal('off'), z.strictObject({ level: z.number().min(1).max(3) })]);

  it('accepts every form', () => {
    expect(schema.parse('off')).toBe('off');
    expect(schema.parse({ level: 2 })).toEqual({ level: 2 });
  });

  it('reports inside the form the value has the shape of, under a plain zod parse too', () => {
    const result = z.object({ option: schema }).safeParse({ option: { level: 7 } });
    expect(result.error?.issues).toMatchObject([{ path: ['option', 'level'], message: 'must be at most 3' }]);
    expectInvalid(() => parseOptions(z.object({ option: schema }), { option: { level: 2, lvl: 1 } }, 'o'), {
      message: 'invalid o: option: unknown option "lvl"',
    });
  });

  it('says what is accepted when the value is of no form', () => {
    for (const value of ['on', 3, null, [], undefined]) {
      expectInvalid(() => parseOptions(schema, value, 'o'), { message: 'invalid o: must be "off", or { level: 1–3 }' });
    }
  });
});

describe('the auth option', () => {
  const wrapped = z.strictObject({ auth: authOptionSchema });

  it.each([
    [true, 'auth: must be { keys: [{ key, role }] }, a function, or false'],
    ['keys', 'auth: must be { keys: [{ key, role }] }, a function, or false'],
    [[{ key: KEY, role: 'admin' }], 'auth: must be { keys: [{ key, role }] }, a function, or false'],
    [{ keys: 'k' }, 'auth.keys: must be an array'],
    [{ kes: [] }, 'auth.keys: is required; auth: unknown option "kes"'],
    [{ keys: [{ key: KEY, role: 'root' }] }, 'auth.keys.0.role: must be one of admin, viewer, client, node'],
    [{ keys: [{ key: KEY, role: 'admin' }, { key: 'short', role: 'viewer' }] }, 'auth.keys.1.key: must be at least 16 characters'],
    [{ keys: [{ key: KEY }] }, 'auth.keys.0.role: must be one of admin, viewer, client, node'],
    [{ keys: [{ key: KEY, role: 'admin', nmae: 'ops' }] }, 'auth.keys.0: unknown option "nmae"'],
    [{ keys: [{ role: 'admin' }] }, 'auth.keys.0: must have either `key` or `sha256`, not both'],
    [{ keys: [{ key: KEY, sha256: 'a'.repeat(64), role: 'admin' }] }, 'auth.keys.0: must have either `key` or `sha256`, not both'],
    [{ keys: [{ sha256: 'xyz', role: 'admin' }] }, 'auth.keys.0.sha256: must be a SHA-256 hex digest (64 hex characters)'],
  ])('%j → "%s"', (auth, message) => {
    expectInvalid(() => parseOptions(wrapped, { auth }, 'router options'), { message: `invalid router options: ${message}` });
  });

  it('accepts keys, digests, a function and false', () => {
    const fn = () => null;
    expect(authOptionSchema.parse(false)).toBe(false);
    expect(authOptionSchema.parse(fn)).toBe(fn);
    const keys = [{ key: KEY, role: 'admin', name: 'ops' }, { sha256: 'A'.repeat(64), role: 'client' }];
    expect(authOptionSchema.parse({ keys })).toEqual({ keys });
  });

  it('is precise through createRouter, and never echoes a key', () => {
    expectInvalid(() => createRouter({ auth: { keys: [{ key: KEY, role: 'owner' as never }] } }), {
      message: 'invalid router options: auth.keys.0.role: must be one of admin, viewer, client, node',
    });
    expectInvalid(() => createRouter({ auth: { keys: [{ key: KEY.slice(0, 10), role: 'admin' }] } }), {
      message: expect.not.stringContaining(KEY.slice(0, 10)),
    });
    expectInvalid(() => createRouter({ auth: 'yes' as never }), {
      message: 'invalid router options: auth: must be { keys: [{ key, role }] }, a function, or false',
    });
  });
});

describe('handler options', () => {
  const router = createRouter({ auth: false });

  it.each([
    [{ prefix: 'llm' }, 'prefix: must be a path such as "/llm"'],
    [{ adminBodyLimit: 10 }, 'adminBodyLimit: must be at least 1024'],
    [{ adminBodyLimit: '64k' }, 'adminBodyLimit: must be a number'],
    [{ prefx: '/llm' }, 'unknown option "prefx"'],
  ])('%j → "%s"', (options, message) => {
    expectInvalid(() => createHandler(router, options as never), { message: `invalid handler options: ${message}` });
  });
});
