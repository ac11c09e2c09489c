import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CAPABILITY_RULES,
  capabilityDetector,
  detectCapabilities,
  modelBaseName,
  parseModelList,
  toCapabilityDetector,
  type CapabilityRule,
} from '../../src/models/index.js';
import type { Capability } from '../../src/schema.js';

const EMB: Capability[] = ['embeddings'];
const CHAT: Capability[] = ['chat'];
const RERANK: Capability[] = ['rerank'];
const AUDIO: Capability[] = ['audio'];
const IMAGE: Capability[] = ['image'];

/** Bare base names and what they must be detected as. */
const NAMES: Array<[name: string, expected: Capability[]]> = [
  // the SPEC rule
  ['embed-english-v3', EMB],
  ['embeddinggemma', EMB],
  // "embed" as a word part
  ['nomic-embed-text', EMB],
  ['nomic-embed-text-v1.5', EMB],
  ['mxbai-embed-large', EMB],
  ['snowflake-arctic-embed', EMB],
  ['snowflake-arctic-embed2', EMB],
  ['text-embedding-3-small', EMB],
  ['text-embedding-3-large', EMB],
  ['text-embedding-ada-002', EMB],
  ['text-embedding-nomic-embed-text-v1.5', EMB],
  ['jina-embeddings-v3', EMB],
  ['Qwen3-Embedding-0.6B', EMB],
  ['granite-embedding', EMB],
  // BGE
  ['bge-m3', EMB],
  ['bge-large-en-v1.5', EMB],
  ['bge-small-en-v1.5', EMB],
  // E5
  ['e5-large-v2', EMB],
  ['e5-mistral-7b-instruct', EMB],
  ['multilingual-e5-large', EMB],
  ['multilingual-e5-large-instruct', EMB],
  // GTE
  ['gte-large', EMB],
  ['gte-Qwen2-7B-instruct', EMB],
  ['gte-base-en-v1.5', EMB],
  // sentence-transformers
  ['all-minilm', EMB],
  ['all-MiniLM-L6-v2', EMB],
  ['all-mpnet-base-v2', EMB],
  ['paraphrase-multilingual', EMB],
  ['paraphrase-multilingual-MiniLM-L12-v2', EMB],
  // rerankers are neither embeddings nor chat
  ['bge-reranker-v2-m3', RERANK],
  ['bge-reranker-large', RERANK],
  ['jina-reranker-v2-base-multilingual', RERANK],
  ['mxbai-rerank-large-v1', RERANK],
  ['Qwen3-Reranker-0.6B', RERANK],
  // speech to text, text to speech
  ['whisper-1', AUDIO],
  ['whisper-large-v3', AUDIO],
  ['whisper-large-v3-turbo', AUDIO],
  ['distil-whisper-large-v3', AUDIO],
  ['faster-whisper-small', AUDIO],
  ['gpt-4o-transcribe', AUDIO],
  ['gpt-4o-mini-transcribe', AUDIO],
  ['tts-1', AUDIO],
  ['tts-1-hd', AUDIO],
  ['gpt-4o-mini-tts', AUDIO],
  ['kokoro', AUDIO],
  ['Kokoro-82M', AUDIO],
  // image generation
  ['dall-e-2', IMAGE],
  ['dall-e-3', IMAGE],
  ['gpt-image-1', IMAGE],
  ['FLUX.1-schnell', IMAGE],
  ['flux.1-dev', IMAGE],
  ['stable-diffusion-3.5-large', IMAGE],
  ['stable-diffusion-xl-base-1.0', IMAGE],
  ['sdxl-turbo', IMAGE],
  // chat models
  ['llama3.1', CHAT],
  ['qwen2.5', CHAT],
  ['gpt-4o', CHAT],
  ['gpt-4o-mini', CHAT],
  ['mistral-7b-instruct', CHAT],
  ['deepseek-r1', CHAT],
  ['gemma2', CHAT],
  ['Meta-Llama-3.1-8B-Instruct', CHAT],
  ['phi3', CHAT],
  ['o1-mini', CHAT],
  ['mixtral-8x7b-instruct-v0.1', CHAT],
  ['codellama', CHAT],
  ['llava', CHAT],
  ['sql-lora', CHAT],
  ['Qwen2.5-7B-Instruct-Q4_K_M.gguf', CHAT],
];

/** Every way a name can be decorated: org prefix(es), :tag suffix, upper case. */
const VARIANTS: Array<[label: string, decorate: (name: string) => string]> = [
  ['bare', (n) => n],
  ['org/', (n) => `org/${n}`],
  ['registry/org/', (n) => `hf.co/some-org/${n}`],
  [':tag', (n) => `${n}:latest`],
  ['org/ + :tag', (n) => `BAAI/${n}:Q4_K_M`],
  ['path', (n) => `/models/${n}`],
  ['UPPER', (n) => n.toUpperCase()],
  ['UPPER org/ + :tag', (n) => `ORG/${n.toUpperCase()}:7B-INSTRUCT`],
];

describe('detectCapabilities — default rules', () => {
  const rows = NAMES.flatMap(([name, expected]) =>
    VARIANTS.map(([label, decorate]) => [decorate(name), label, expected] as const),
  );

  it.each(rows)('%s (%s) → %j', (modelId, _label, expected) => {
    expect(detectCapabilities(modelId)).toEqual(expected);
  });

  it.each([
    ['llama3.1:8b', CHAT],
    ['qwen2.5:7b-instruct', CHAT],
    ['embeddinggemma:300m', EMB],
    ['nomic-embed-text:latest', EMB],
    ['meta-llama/Meta-Llama-3.1-8B-Instruct', CHAT],
    ['BAAI/bge-m3', EMB],
    ['BAAI/bge-reranker-v2-m3', RERANK],
    ['intfloat/multilingual-e5-large', EMB],
    ['Alibaba-NLP/gte-Qwen2-7B-instruct', EMB],
    ['sentence-transformers/all-MiniLM-L6-v2', EMB],
    ['hf.co/nomic-ai/nomic-embed-text-v1.5-GGUF:F16', EMB],
    ['C:\\models\\bge-m3-Q8_0.gguf', EMB],
    ['ft:gpt-4o-mini-2024-07-18:acme::9uBqTcRt', CHAT],
  ] as const)('real-world id %s → %j', (modelId, expected) => {
    expect(detectCapabilities(modelId)).toEqual(expected);
  });

  it('does not take names that merely contain "bge"/"e5"/"gte" for embedding models', () => {
    for (const id of ['llama-bge-chat', 'qwen2.5-e5', 'my-gte', 'smallmodel', 'tall-minilm-chat', 'influx-7b', 'nuttster', 'gpt-4o-audio-preview']) {
      expect(detectCapabilities(id)).toEqual(CHAT);
    }
  });

  it('falls back to chat for odd ids', () => {
    for (const id of ['', ':', '/', 'org/', ':tag-only', '///']) {
      expect(detectCapabilities(id)).toEqual(CHAT);
    }
  });

  it('returns a fresh array each time', () => {
    const first = detectCapabilities('bge-m3');
    first.push('mutated');
    expect(detectCapabilities('bge-m3')).toEqual(EMB);
    expect(DEFAULT_CAPABILITY_RULES.every((rule) => !rule.capabilities.includes('mutated'))).toBe(true);
  });

  it('every default rule has a description and at least one capability', () => {
    for (const rule of DEFAULT_CAPABILITY_RULES) {
      expect(rule.description.length).toBeGreaterThan(0);
      expect(rule.capabilities.length).toBeGreaterThan(0);
    }
  });

  it('classifies the models of the real fixtures', () => {
    const body: unknown = JSON.parse(
      readFileSync(new URL('../fixtures/model-lists/openai-v1-models.json', import.meta.url), 'utf8'),
    );
    const detected = Object.fromEntries(parseModelList(body).map((id) => [id, detectCapabilities(id)]));
    expect(detected).toEqual({
      'gpt-4o': CHAT,
      'gpt-4o-mini': CHAT,
      'text-embedding-3-large': EMB,
      'o1-mini': CHAT,
      'text-embedding-3-small': EMB,
      'gpt-3.5-turbo': CHAT,
      'text-embedding-ada-002': EMB,
      'ft:gpt-4o-mini-2024-07-18:acme::9uBqTcRt': CHAT,
    });
  });
});

describe('modelBaseName', () => {
  it.each([
    ['llama3.1:8b', 'llama3.1'],
    ['hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M', 'llama-3.2-3b-instruct-gguf'],
    ['meta-llama/Meta-Llama-3.1-8B-Instruct', 'meta-llama-3.1-8b-instruct'],
    ['/models/Qwen2.5-7B-Instruct-Q4_K_M.gguf', 'qwen2.5-7b-instruct-q4_k_m.gguf'],
    ['C:\\models\\x.gguf', 'x.gguf'],
    ['org/', ''],
    ['', ''],
  ])('%s → %s', (modelId, base) => {
    expect(modelBaseName(modelId)).toBe(base);
  });
});

describe('custom rules', () => {
  const custom: CapabilityRule[] = [
    { test: /^vision-/, capabilities: ['chat', 'vision'], description: 'vision models' },
    { test: /^llama/, capabilities: ['completions'], description: 'raw completion models' },
  ];

  it('first matching rule wins; the fallback is still chat', () => {
    expect(detectCapabilities('vision-llava:7b', custom)).toEqual(['chat', 'vision']);
    expect(detectCapabilities('org/LLAMA3.1:8b', custom)).toEqual(['completions']);
    expect(detectCapabilities('nomic-embed-text', custom)).toEqual(CHAT);
  });

  it('can be put in front of the defaults', () => {
    const rules = [...custom, ...DEFAULT_CAPABILITY_RULES];
    expect(detectCapabilities('vision-llava', rules)).toEqual(['chat', 'vision']);
    expect(detectCapabilities('nomic-embed-text', rules)).toEqual(EMB);
    expect(detectCapabilities('gpt-4o', rules)).toEqual(CHAT);
  });

  it('an empty table classifies everything as chat', () => {
    expect(detectCapabilities('bge-m3', [])).toEqual(CHAT);
  });

  it('rule order matters', () => {
    const a: CapabilityRule = { test: /^x/, capabilities: ['a'], description: 'a' };
    const b: CapabilityRule = { test: /^xy/, capabilities: ['b'], description: 'b' };
    expect(detectCapabilities('xyz', [a, b])).toEqual(['a']);
    expect(detectCapabilities('xyz', [b, a])).toEqual(['b']);
  });

  it('global and sticky regexps give stable answers across calls', () => {
    const rules: CapabilityRule[] = [
      { test: /embed/g, capabilities: ['embeddings'], description: 'global' },
      { test: /^rr/y, capabilities: ['rerank'], description: 'sticky' },
    ];
    for (let i = 0; i < 3; i++) {
      expect(detectCapabilities('my-embed', rules)).toEqual(EMB);
      expect(detectCapabilities('rr-1', rules)).toEqual(RERANK);
    }
  });

  it('capabilityDetector binds a copy of the table', () => {
    const rules = [...custom];
    const detect = capabilityDetector(rules);
    rules.length = 0;
    expect(detect('vision-x')).toEqual(['chat', 'vision']);
    expect(detect('gpt-4o')).toEqual(CHAT);
  });

  it('toCapabilityDetector accepts nothing, a table or a function', () => {
    expect(toCapabilityDetector(undefined)('bge-m3')).toEqual(EMB);
    expect(toCapabilityDetector(custom)('vision-x')).toEqual(['chat', 'vision']);
    const fn = (id: string): Capability[] => (id === 'special' ? ['embeddings'] : ['chat']);
    expect(toCapabilityDetector(fn)).toBe(fn);
  });
});
