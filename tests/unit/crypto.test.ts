import { describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto.js';
import { LlmlbError } from '../../src/errors.js';

const secret = 'a-long-enough-test-secret';

describe('secret box', () => {
  it('round-trips a value', () => {
    const box = createSecretBox(secret);
    const sealed = box.seal('sk-upstream-123', 'endpoint-1');
    expect(sealed).toMatch(/^v1:[^:]+:[^:]+:[^:]+$/);
    expect(sealed).not.toContain('sk-upstream-123');
    expect(box.open(sealed, 'endpoint-1')).toBe('sk-upstream-123');
  });

  it('uses a fresh IV per value', () => {
    const box = createSecretBox(secret);
    expect(box.seal('same', 'e')).not.toBe(box.seal('same', 'e'));
  });

  it('works across instances with the same secret', () => {
    const sealed = createSecretBox(secret).seal('k', 'e');
    expect(createSecretBox(secret).open(sealed, 'e')).toBe('k');
  });

  it('fails clearly with the wrong secret', () => {
    const sealed = createSecretBox(secret).seal('sk-upstream-123', 'e');
    const open = () => createSecretBox('another-secret-of-length').open(sealed, 'e');
    expect(open).toThrow(LlmlbError);
    expect(open).toThrow(/secret/);
  });

  it('detects tampering with the ciphertext, tag or iv', () => {
    const box = createSecretBox(secret);
    const [v, iv, tag, ct] = box.seal('sk-upstream-123', 'e').split(':') as [string, string, string, string];
    const flip = (b64: string) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      return bytes.toString('base64');
    };
    for (const forged of [[v, iv, tag, flip(ct)], [v, iv, flip(tag), ct], [v, flip(iv), tag, ct]]) {
      expect(() => box.open(forged.join(':'), 'e')).toThrow(LlmlbError);
    }
  });

  it('binds a value to its context', () => {
    const box = createSecretBox(secret);
    expect(() => box.open(box.seal('k', 'endpoint-a'), 'endpoint-b')).toThrow(LlmlbError);
  });

  it('rejects unknown formats and short secrets', () => {
    const box = createSecretBox(secret);
    expect(() => box.open('plaintext', 'e')).toThrow(/unknown format/);
    expect(() => box.open('v2:a:b:c', 'e')).toThrow(/unknown format/);
    expect(() => createSecretBox('short')).toThrow(/at least 16/);
  });
});
