/** The alias rewrite of multipart uploads: only the first `model` field's value changes. */
import { describe, expect, it } from 'vitest';
import { LlmlbError } from '../../src/errors.js';
import { rewriteFormModel } from '../../src/proxy/rewrite-form-model.js';

const TYPE = 'multipart/form-data; boundary=----b0undary';

/** A multipart body of `parts` ([headers, value]) with the boundary of {@link TYPE}. */
function form(parts: [string, string | Buffer][], boundary = '----b0undary'): Buffer {
  const pieces: Buffer[] = [];
  for (const [headers, value] of parts) pieces.push(Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`), Buffer.from(value), Buffer.from('\r\n'));
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(pieces);
}

const FILE: [string, Buffer] = ['Content-Disposition: form-data; name="file"; filename="model.wav"\r\nContent-Type: audio/wav', Buffer.from([0, 1, 2, 0x0d, 0x0a, 0x2d, 0x2d, 255])];

describe('rewriteFormModel', () => {
  it('replaces the model field after a file part, leaving every other byte', () => {
    const before = form([FILE, ['Content-Disposition: form-data; name="model"', 'whisper'], ['Content-Disposition: form-data; name="language"', 'en']]);
    const after = rewriteFormModel(before, TYPE, 'Systran/faster-whisper-large-v3');
    expect(after).toEqual(form([FILE, ['Content-Disposition: form-data; name="model"', 'Systran/faster-whisper-large-v3'], ['Content-Disposition: form-data; name="language"', 'en']]));
  });

  it('replaces only the first model field, and finds it first, unquoted, in any header case', () => {
    const before = form([['content-disposition: form-data; name=model', 'whisper'], ['Content-Disposition: form-data; name="model"', 'other'], FILE]);
    expect(rewriteFormModel(before, TYPE, 'w-ü').toString('latin1')).toBe(
      form([['content-disposition: form-data; name=model', 'w-ü'], ['Content-Disposition: form-data; name="model"', 'other'], FILE]).toString('latin1'),
    );
  });

  it('takes a quoted boundary and an empty value', () => {
    const before = form([['Content-Disposition: form-data; name="model"', '']], 'x y');
    expect(rewriteFormModel(before, 'multipart/form-data; boundary="x y"', 'm').toString()).toBe(form([['Content-Disposition: form-data; name="model"', 'm']], 'x y').toString());
  });

  it('does not take a file named model, or a field named model_id, for the model field', () => {
    const before = form([['Content-Disposition: form-data; name="file"; filename="model"', 'x'], ['Content-Disposition: form-data; name="model_id"', 'y']]);
    expect(() => rewriteFormModel(before, TYPE, 'm')).toThrow(LlmlbError);
    expect(() => rewriteFormModel(before, 'multipart/form-data', 'm')).toThrow(/no "model" field/);
  });
});
