/** rewriteModel: only the top-level `model` value changes, every other byte stays. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rewriteModel } from '../../src/proxy/rewrite-model.js';

const rewrite = (text: string, model: string): string => rewriteModel(Buffer.from(text, 'utf8'), model).toString('utf8');

describe('rewriteModel', () => {
  it('replaces the model value and keeps every other byte: big integers, spacing, order', () => {
    const body = '{ "seed" : 12345678901234567890, "model" :  "llama3.1" ,\n "temperature": 1.0e0, "x": [1,2] }';
    expect(rewrite(body, 'llama3.1:8b')).toBe('{ "seed" : 12345678901234567890, "model" :  "llama3.1:8b" ,\n "temperature": 1.0e0, "x": [1,2] }');
  });

  it('leaves nested `model` members, strings that look like members, and escapes alone', () => {
    const body = String.raw`{"messages":[{"role":"user","content":"\"model\":\"x\" {["}],"meta":{"model":"inner"},"model":"a\"b","tail":"\\"}`;
    const out = rewrite(body, 'org/target');
    expect(JSON.parse(out)).toEqual({ ...JSON.parse(body), model: 'org/target' });
    expect(out).toContain('"meta":{"model":"inner"}');
    expect(out.replace('"org/target"', String.raw`"a\"b"`)).toBe(body);
  });

  it('finds a member name spelt with escapes, and replaces every duplicate', () => {
    expect(JSON.parse(rewrite(String.raw`{"mod\u0065l":"a","n":1}`, 'b'))).toEqual({ model: 'b', n: 1 });
    expect(rewrite('{"model":"a","model":"c"}', 'b')).toBe('{"model":"b","model":"b"}');
  });

  it('writes the new id as a JSON string (quotes, unicode) and skips a byte order mark', () => {
    const out = rewriteModel(Buffer.from('\ufeff{"model":"m"}', 'utf8'), 'ü "q" 日本');
    expect(out.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(JSON.parse(out.subarray(3).toString('utf8'))).toEqual({ model: 'ü "q" 日本' });
  });

  it('keeps any JSON object as it was but for its model', () => {
    const member = fc.tuple(fc.string(), fc.jsonValue({ maxDepth: 3 }));
    fc.assert(
      fc.property(fc.array(member, { maxLength: 6 }), fc.nat(6), fc.string(), fc.string({ minLength: 1 }), (members, at, original, target) => {
        const entries = members.filter(([key]) => key !== 'model' && key !== '__proto__');
        entries.splice(Math.min(at, entries.length), 0, ['model', original]);
        const text = JSON.stringify(Object.fromEntries(entries), null, at % 2 === 0 ? undefined : 2);
        const out = rewrite(text, target);
        expect(JSON.parse(out)).toEqual({ ...JSON.parse(text), model: target });
        // Everything around the value is byte for byte the same.
        const value = JSON.stringify(original);
        const [before, after] = [text.indexOf(`"model":${at % 2 === 0 ? '' : ' '}${value}`), JSON.stringify(target)];
        expect(out.slice(0, before)).toBe(text.slice(0, before));
        expect(out.length - after.length).toBe(text.length - value.length);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses text that is not a JSON object', () => {
    expect(() => rewrite('[1]', 'x')).toThrow();
    expect(() => rewrite('{"model":"unterminated', 'x')).toThrow();
  });
});
