/**
 * Reading a multipart upload: the `model` field wherever it stands, the original bytes, the
 * limit, malformed forms, and what a host framework may have done to the body first.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LlmlbError } from '../../src/errors.js';
import { RejectedBody } from '../../src/http/body.js';
import { readMultipartBody } from '../../src/http/multipart.js';
import { multipartBody } from '../helpers/fake-routes.js';

const FILE = { name: 'talk.wav', bytes: Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 13) % 256)) };

/** A request whose body arrives in chunks of `chunk` bytes. */
function requestOf(body: Buffer, contentType: string, chunk = 1000, headers: Record<string, string> = {}): IncomingMessage {
  const req = new PassThrough() as unknown as IncomingMessage & PassThrough;
  req.headers = { 'content-type': contentType, ...headers };
  setImmediate(() => {
    for (let at = 0; at < body.length; at += chunk) req.write(body.subarray(at, at + chunk));
    req.end();
  });
  return req;
}

/** The error `promise` rejects with, as code and status. */
async function failure(promise: Promise<unknown>): Promise<{ code: string; status: number }> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(LlmlbError);
  return { code: (error as LlmlbError).code, status: (error as LlmlbError).status };
}

describe('readMultipartBody', () => {
  it.each([
    ['before the file', false, 1000],
    ['after the file', true, 1000],
    ['after the file, one byte at a time', true, 1],
    ['in one chunk', true, 1_000_000],
  ])('finds the model %s and keeps the original bytes', async (_label, fileFirst, chunk) => {
    const form = multipartBody({ model: 'whisper-1', prompt: 'names: Ada' }, FILE, fileFirst);
    const read = await readMultipartBody(requestOf(form.body, form.contentType, chunk), 1_000_000);
    expect(read.model).toBe('whisper-1');
    expect(read.raw.equals(form.body)).toBe(true);
  });

  it('says there is no model when the form has none (or an empty one)', async () => {
    const form = multipartBody({ language: 'en' }, FILE);
    expect((await readMultipartBody(requestOf(form.body, form.contentType), 1_000_000)).model).toBeUndefined();
    const empty = multipartBody({ model: '' }, FILE);
    expect((await readMultipartBody(requestOf(empty.body, empty.contentType), 1_000_000)).model).toBe('');
  });

  it('refuses a body over the limit, declared or not: 413', async () => {
    const form = multipartBody({ model: 'whisper-1' }, FILE);
    expect(await failure(readMultipartBody(requestOf(form.body, form.contentType), 10_000))).toEqual({ code: 'payload_too_large', status: 413 });
    const declared = requestOf(form.body, form.contentType, 1000, { 'content-length': String(form.body.length) });
    expect(await failure(readMultipartBody(declared, 10_000))).toEqual({ code: 'payload_too_large', status: 413 });
  });

  it('refuses what is not a well-formed multipart form', async () => {
    const cases: Array<[Buffer, string, string]> = [
      [Buffer.from('{"model":"whisper-1"}'), 'application/json', 'unsupported_media_type'],
      [Buffer.from('model=whisper-1'), 'application/x-www-form-urlencoded', 'unsupported_media_type'],
      [Buffer.from('x'), 'multipart/form-data', 'invalid_request'],
      [Buffer.from('not a form at all'), 'multipart/form-data; boundary=abc', 'invalid_request'],
      [Buffer.from('--abc\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1'), 'multipart/form-data; boundary=abc', 'invalid_request'],
    ];
    for (const [body, contentType, code] of cases) {
      const read = readMultipartBody(requestOf(body, contentType), 1_000_000);
      expect((await failure(read)).code, `${contentType}: ${body.toString()}`).toBe(code);
    }
  });

  it('takes raw bytes a host framework read, refuses a body it parsed, and throws what it rejected', async () => {
    const form = multipartBody({ model: 'whisper-1' }, FILE, true);
    const consumed = () => requestOf(Buffer.alloc(0), form.contentType);
    const read = await readMultipartBody(consumed(), 1_000_000, form.body);
    expect(read).toEqual({ raw: form.body, model: 'whisper-1' });
    expect((await failure(readMultipartBody(consumed(), 100, form.body))).code).toBe('payload_too_large');
    expect((await failure(readMultipartBody(consumed(), 1_000_000, { model: 'whisper-1' }))).code).toBe('invalid_request');
    const rejected = new RejectedBody(new LlmlbError('payload_too_large', 'too large'));
    expect((await failure(readMultipartBody(consumed(), 1_000_000, rejected))).code).toBe('payload_too_large');
  });
});
