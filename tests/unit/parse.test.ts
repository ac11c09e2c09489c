import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  MAX_MODEL_ID_LENGTH,
  MAX_MODEL_LIST_ENTRIES,
  ModelListError,
  parseModelList,
  parseModelListText,
  type ModelListErrorReason,
} from '../../src/models/index.js';

function fixtureText(name: string): string {
  return readFileSync(new URL(`../fixtures/model-lists/${name}`, import.meta.url), 'utf8');
}
function fixture(name: string): unknown {
  return JSON.parse(fixtureText(name)) as unknown;
}

/** Runs `fn`, expecting a ModelListError; returns it. */
function catchModelListError(fn: () => unknown): ModelListError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ModelListError);
    return err as ModelListError;
  }
  throw new Error('expected a ModelListError, nothing was thrown');
}

describe('parseModelList — real upstream payloads', () => {
  const cases: Array<[file: string, ids: string[]]> = [
    [
      'ollama-api-tags.json',
      [
        'llama3.1:8b',
        'nomic-embed-text:latest',
        'qwen2.5:7b-instruct',
        'mxbai-embed-large:latest',
        'deepseek-r1:14b',
        'hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M',
      ],
    ],
    [
      'ollama-v1-models.json',
      [
        'hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M',
        'deepseek-r1:14b',
        'qwen2.5:7b-instruct',
        'llama3.1:8b',
        'nomic-embed-text:latest',
        'mxbai-embed-large:latest',
      ],
    ],
    ['vllm-v1-models.json', ['meta-llama/Meta-Llama-3.1-8B-Instruct', 'sql-lora']],
    ['llamacpp-v1-models.json', ['/models/Qwen2.5-7B-Instruct-Q4_K_M.gguf']],
    [
      'lmstudio-v1-models.json',
      [
        'qwen2.5-7b-instruct',
        'meta-llama-3.1-8b-instruct',
        'text-embedding-nomic-embed-text-v1.5',
        'lmstudio-community/gemma-2-9b-it-GGUF',
      ],
    ],
    [
      'openai-v1-models.json',
      [
        'gpt-4o',
        'gpt-4o-mini',
        'text-embedding-3-large',
        'o1-mini',
        'text-embedding-3-small',
        'gpt-3.5-turbo',
        'text-embedding-ada-002',
        'ft:gpt-4o-mini-2024-07-18:acme::9uBqTcRt',
      ],
    ],
  ];

  it.each(cases)('%s', (file, ids) => {
    expect(parseModelList(fixture(file))).toEqual(ids);
    expect(parseModelListText(fixtureText(file))).toEqual(ids);
  });

  it('Ollama /api/tags and Ollama /v1/models report the same set', () => {
    const tags = parseModelList(fixture('ollama-api-tags.json'));
    const v1 = parseModelList(fixture('ollama-v1-models.json'));
    expect([...tags].sort()).toEqual([...v1].sort());
  });
});

describe('parseModelList — shapes', () => {
  it('accepts an OpenAI list without the "object" field, and an empty list', () => {
    expect(parseModelList({ data: [{ id: 'a' }] })).toEqual(['a']);
    expect(parseModelList({ object: 'list', data: [] })).toEqual([]);
    expect(parseModelList({ models: [] })).toEqual([]);
  });

  it('prefers "name" over "model" in Ollama entries and falls back to "model"', () => {
    expect(parseModelList({ models: [{ name: 'by-name', model: 'by-model' }] })).toEqual(['by-name']);
    expect(parseModelList({ models: [{ model: 'only-model' }] })).toEqual(['only-model']);
    expect(parseModelList({ models: [{ name: null, model: 'null-name' }] })).toEqual(['null-name']);
  });

  it('lets "data" win when a body carries both shapes (llama.cpp server)', () => {
    const body = {
      models: [{ name: 'from-models', model: 'from-models' }],
      object: 'list',
      data: [{ id: 'from-data' }, { id: 'from-data' }],
    };
    expect(parseModelList(body)).toEqual(['from-data']);
  });

  it('falls back to "models" when "data" is null', () => {
    expect(parseModelList({ data: null, models: [{ name: 'm' }] })).toEqual(['m']);
  });

  it('deduplicates ids, first-seen order', () => {
    expect(parseModelList({ data: [{ id: 'b' }, { id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'a' }] })).toEqual([
      'b',
      'a',
      'c',
    ]);
  });

  it('keeps ids exactly as sent (no trimming, case preserved)', () => {
    expect(parseModelList({ data: [{ id: ' Llama ' }, { id: 'llama' }, { id: 'LLAMA' }] })).toEqual([
      ' Llama ',
      'llama',
      'LLAMA',
    ]);
  });

  it('tolerates extra fields everywhere', () => {
    const body = { object: 'list', extra: { nested: [1, 2] }, data: [{ id: 'x', foo: 'bar', meta: null }] };
    expect(parseModelList(body)).toEqual(['x']);
  });

  it(`accepts exactly ${MAX_MODEL_LIST_ENTRIES} entries and ids of ${MAX_MODEL_ID_LENGTH} characters`, () => {
    const data = Array.from({ length: MAX_MODEL_LIST_ENTRIES }, (_, i) => ({ id: `m${i}` }));
    expect(parseModelList({ data })).toHaveLength(MAX_MODEL_LIST_ENTRIES);
    const long = 'x'.repeat(MAX_MODEL_ID_LENGTH);
    expect(parseModelList({ data: [{ id: long }] })).toEqual([long]);
  });
});

describe('parseModelList — malformed input', () => {
  const cases: Array<[label: string, body: unknown, reason: ModelListErrorReason, message: RegExp]> = [
    ['null', null, 'not_an_object', /expected \{"data":\[…\]\} \(OpenAI\) or \{"models":\[…\]\} \(Ollama\), got null/],
    ['undefined', undefined, 'not_an_object', /got undefined/],
    ['an array', [{ id: 'a' }], 'not_an_object', /got an array/],
    ['a string', 'gpt-4o', 'not_an_object', /got a string/],
    ['a number', 42, 'not_an_object', /got a number/],
    ['{}', {}, 'not_a_model_list', /^not a model list: expected \{"data":\[…\]\} \(OpenAI\) or \{"models":\[…\]\} \(Ollama\)$/],
    ['a single model object', { id: 'gpt-4o', object: 'model' }, 'not_a_model_list', /not a model list/],
    ['{"data":"x"}', { data: 'x' }, 'not_a_model_list', /"data" must be an array, got a string/],
    ['{"data":{}}', { data: {} }, 'not_a_model_list', /"data" must be an array, got an object/],
    ['{"models":1}', { models: 1 }, 'not_a_model_list', /"models" must be an array, got a number/],
    ['entry not an object', { data: [{ id: 'a' }, 'b'] }, 'invalid_entry', /entry 1 must be an object, got a string/],
    ['entry is null', { data: [null] }, 'invalid_entry', /entry 0 must be an object, got null/],
    ['entry is an array', { models: [['x']] }, 'invalid_entry', /entry 0 must be an object, got an array/],
    ['entry without id', { data: [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { name: 'd' }] }, 'invalid_entry', /entry 3 has no "id"/],
    ['id is null', { data: [{ id: null }] }, 'invalid_entry', /entry 0 has no "id"/],
    ['id not a string', { data: [{ id: 7 }] }, 'invalid_entry', /entry 0: "id" must be a string, got a number/],
    ['id is an object', { data: [{ id: { name: 'x' } }] }, 'invalid_entry', /"id" must be a string, got an object/],
    ['empty id', { data: [{ id: 'a' }, { id: '' }] }, 'invalid_entry', /entry 1: "id" is empty/],
    ['Ollama entry without name or model', { models: [{ digest: 'abc' }] }, 'invalid_entry', /entry 0 has no "name" or "model"/],
    ['Ollama empty name', { models: [{ name: '', model: 'm' }] }, 'invalid_entry', /entry 0: "name" is empty/],
    ['Ollama model not a string', { models: [{ model: true }] }, 'invalid_entry', /"model" must be a string, got a boolean/],
    [
      'id too long',
      { data: [{ id: 'x'.repeat(MAX_MODEL_ID_LENGTH + 1) }] },
      'invalid_entry',
      new RegExp(`"id" is ${MAX_MODEL_ID_LENGTH + 1} characters long \\(at most ${MAX_MODEL_ID_LENGTH} allowed\\)`),
    ],
    [
      'too many entries',
      { data: Array.from({ length: MAX_MODEL_LIST_ENTRIES + 1 }, (_, i) => ({ id: `m${i}` })) },
      'too_many_entries',
      new RegExp(`has ${MAX_MODEL_LIST_ENTRIES + 1} entries \\(at most ${MAX_MODEL_LIST_ENTRIES} allowed\\)`),
    ],
    [
      'too many Ollama entries',
      { models: Array.from({ length: MAX_MODEL_LIST_ENTRIES + 1 }, () => ({ name: 'same' })) },
      'too_many_entries',
      /at most 10000 allowed/,
    ],
  ];

  it.each(cases)('rejects %s', (_label, body, reason, message) => {
    const err = catchModelListError(() => parseModelList(body));
    expect(err.reason).toBe(reason);
    expect(err.name).toBe('ModelListError');
    expect(err.message).toMatch(message);
  });

  it('reports the offending entry index', () => {
    expect(catchModelListError(() => parseModelList({ data: [{ id: 'a' }, {}] })).index).toBe(1);
    expect(catchModelListError(() => parseModelList({})).index).toBeUndefined();
  });

  it('does not echo the offending value in the message', () => {
    const secret = 'sk-should-not-leak';
    const err = catchModelListError(() => parseModelList({ data: [{ id: { secret } }] }));
    expect(err.message).not.toContain(secret);
  });
});

describe('parseModelListText', () => {
  it.each(['', 'not json', '<html><body>502 Bad Gateway</body></html>', '{"data":[', "{'data':[]}"])(
    'rejects invalid JSON %j',
    (text) => {
      const err = catchModelListError(() => parseModelListText(text));
      expect(err.reason).toBe('invalid_json');
      expect(err.message).toBe('not a model list: the response body is not valid JSON');
    },
  );

  it('applies the same checks after parsing', () => {
    expect(catchModelListError(() => parseModelListText('null')).reason).toBe('not_an_object');
    expect(catchModelListError(() => parseModelListText('{"data":"x"}')).reason).toBe('not_a_model_list');
    expect(parseModelListText('  {"data":[{"id":"a"}]}\n')).toEqual(['a']);
  });
});
