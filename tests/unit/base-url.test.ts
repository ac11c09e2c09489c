/** normalizeBaseUrl: a base URL that ends in an API path is refused with the base URL to use. */
import { describe, expect, it } from 'vitest';
import { LlmlbError } from '../../src/errors.js';
import { createRouter } from '../../src/router.js';
import { normalizeBaseUrl } from '../../src/base-url.js';

const refusal = (base: string) => ({ ok: false, message: `must be the server's base URL, not an API path: use ${base}` });

describe('normalizeBaseUrl and API paths', () => {
  it.each([
    ['http://host:8000/v1/chat/completions', 'http://host:8000'],
    ['http://host:8000/v1/chat/completions/', 'http://host:8000'],
    ['http://host:8000/v1/completions', 'http://host:8000'],
    ['http://host:8000/v1/embeddings', 'http://host:8000'],
    ['http://host:8000/v1/models', 'http://host:8000'],
    ['http://host:8000/v1/responses', 'http://host:8000'],
    ['https://api.example.com/openai/v1/chat/completions', 'https://api.example.com/openai'],
    ['http://host:8000/chat/completions', 'http://host:8000'],
    ['https://gw.example.com/llm/chat/completions', 'https://gw.example.com/llm'],
    ['http://127.0.0.1:11434/api/tags', 'http://127.0.0.1:11434'],
    ['http://127.0.0.1:11434/api/chat', 'http://127.0.0.1:11434'],
    ['http://127.0.0.1:11434/api/generate', 'http://127.0.0.1:11434'],
    ['http://127.0.0.1:11434/api/embed', 'http://127.0.0.1:11434'],
    ['http://127.0.0.1:11434/api/version', 'http://127.0.0.1:11434'],
    [' HTTP://Host:80/base/v1/models ', 'http://host/base'],
  ])('%s is refused: use %s', (input, base) => {
    expect(normalizeBaseUrl(input)).toEqual(refusal(base));
  });

  it.each([
    ['http://host:8000/v1', 'http://host:8000'],
    ['http://host:8000/v1/', 'http://host:8000'],
    ['http://host:8000/openai/v1', 'http://host:8000/openai'],
    ['http://host:8000/models', 'http://host:8000/models'],
    ['http://host:8000/completions', 'http://host:8000/completions'],
    ['http://host:8000/api', 'http://host:8000/api'],
    ['http://host:8000/v1/chat', 'http://host:8000/v1/chat'],
    ['http://host:8000/v1/models/llama', 'http://host:8000/v1/models/llama'],
    ['http://host:8000/chat/completions-proxy', 'http://host:8000/chat/completions-proxy'],
  ])('%s is a base URL → %s', (input, url) => {
    expect(normalizeBaseUrl(input)).toEqual({ ok: true, url });
  });

  it('is a validation_error on base_url when registering', async () => {
    const router = createRouter({ checker: false });
    await router.start();
    try {
      const base_url = 'http://10.0.0.5:8000/v1/chat/completions';
      const err: unknown = await router.endpoints.create({ name: 'gpu', base_url }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LlmlbError);
      expect((err as LlmlbError).code).toBe('validation_error');
      expect((err as LlmlbError).details).toEqual([
        { path: 'base_url', message: "must be the server's base URL, not an API path: use http://10.0.0.5:8000" },
      ]);
    } finally {
      await router.stop();
    }
  });
});
