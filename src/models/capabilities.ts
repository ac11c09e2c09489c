/**
 * Capability detection from model names (SPEC §4): a small, ordered, declarative rule table.
 * Rules are tested against the model's *base name* — lower-cased, with any `org/` (or path)
 * prefix and any `:tag` suffix removed — and the first matching rule wins. Names no rule matches
 * are chat models.
 */
import type { Capability } from '../schema.js';

/** One row of a capability table: names matching `test` get `capabilities`. */
export interface CapabilityRule {
  /** Tested against the lower-cased base name (see {@link modelBaseName}); write lower-case patterns. */
  test: RegExp;
  /** Capabilities of the matching models. */
  capabilities: readonly Capability[];
  /** What the rule is for, in a few words (shown in docs and debugging output). */
  description: string;
}

/** Maps a model id to its capabilities. */
export type CapabilityDetector = (modelId: string) => Capability[];

/** Capabilities of a model no rule matches. */
export const FALLBACK_CAPABILITIES: readonly Capability[] = Object.freeze(['chat']);

const EMBEDDINGS: readonly Capability[] = Object.freeze(['embeddings']);
const AUDIO: readonly Capability[] = Object.freeze(['audio']);
const IMAGE: readonly Capability[] = Object.freeze(['image']);

/**
 * The built-in rules, in order. Rerankers come first so that `bge-reranker-*` is not taken for a
 * `bge-*` embedding model; speech and image models next, before the embedding rules. `messages`
 * is not told by name: every `chat` model offers it (see `offersCapability`).
 *
 * @example
 * // Put your own rules in front of the defaults:
 * const rules = [{ test: /^my-embedder/, capabilities: ['embeddings'], description: 'in-house' }, ...DEFAULT_CAPABILITY_RULES];
 */
export const DEFAULT_CAPABILITY_RULES: readonly CapabilityRule[] = Object.freeze([
  {
    test: /rerank/,
    capabilities: Object.freeze(['rerank']),
    description: 'rerankers: bge-reranker-*, jina-reranker-*, mxbai-rerank-*, qwen3-reranker-*',
  },
  {
    test: /whisper|transcribe/,
    capabilities: AUDIO,
    description: 'speech to text: whisper-1, whisper-large-v3, distil-whisper-large-v3, gpt-4o-transcribe',
  },
  {
    test: /(?:^|[-_.])tts(?:$|[-_.])|^kokoro/,
    capabilities: AUDIO,
    description: 'text to speech: tts-1, tts-1-hd, gpt-4o-mini-tts, kokoro, kokoro-82m',
  },
  {
    test: /^dall-e|^gpt-image|(?:^|[-_.])flux|stable-diffusion|^sdxl/,
    capabilities: IMAGE,
    description: 'image generation: dall-e-3, gpt-image-1, flux.1-schnell, stable-diffusion-3.5-large, sdxl-turbo',
  },
  {
    test: /^embed/,
    capabilities: EMBEDDINGS,
    description: 'names starting with "embed" (the SPEC rule), e.g. embeddinggemma',
  },
  {
    test: /(?:^|[-_.])embed/,
    capabilities: EMBEDDINGS,
    description:
      '"embed" as a word part: nomic-embed-text, mxbai-embed-large, snowflake-arctic-embed, text-embedding-3-small, jina-embeddings-v3',
  },
  {
    test: /^bge-/,
    capabilities: EMBEDDINGS,
    description: 'BAAI general embeddings: bge-m3, bge-large-en-v1.5',
  },
  {
    test: /^(?:multilingual-)?e5-/,
    capabilities: EMBEDDINGS,
    description: 'E5 family: e5-large-v2, multilingual-e5-large, e5-mistral-7b-instruct',
  },
  {
    test: /^gte-/,
    capabilities: EMBEDDINGS,
    description: 'GTE family: gte-large, gte-qwen2-7b-instruct',
  },
  {
    test: /^(?:all-minilm|all-mpnet|all-distilroberta|paraphrase-|multi-qa-)/,
    capabilities: EMBEDDINGS,
    description: 'sentence-transformers: all-minilm-l6-v2, all-mpnet-base-v2, paraphrase-multilingual-*',
  },
] satisfies CapabilityRule[]);

/**
 * The part of a model id the rules look at: the last `/`- or `\`-separated segment, without a
 * `:tag` suffix, lower-cased.
 *
 * @example
 * modelBaseName('hf.co/BAAI/bge-m3:Q8_0')  // → 'bge-m3'
 * modelBaseName('nomic-embed-text:latest') // → 'nomic-embed-text'
 */
export function modelBaseName(modelId: string): string {
  const segments = modelId.split(/[/\\]/);
  const last = segments[segments.length - 1] ?? '';
  const colon = last.indexOf(':');
  return (colon === -1 ? last : last.slice(0, colon)).toLowerCase();
}

function matches(rule: CapabilityRule, baseName: string): boolean {
  // A global or sticky RegExp keeps state between calls; always start from the beginning.
  if (rule.test.global || rule.test.sticky) rule.test.lastIndex = 0;
  return rule.test.test(baseName);
}

/**
 * Capabilities of `modelId` according to `rules` (first match wins; no match → `['chat']`).
 * Returns a fresh array.
 *
 * @example
 * detectCapabilities('llama3.1:8b')                   // → ['chat']
 * detectCapabilities('nomic-embed-text:latest')       // → ['embeddings']
 * detectCapabilities('BAAI/bge-reranker-v2-m3')       // → ['rerank']
 * detectCapabilities('whisper-large-v3')              // → ['audio']
 */
export function detectCapabilities(
  modelId: string,
  rules: readonly CapabilityRule[] = DEFAULT_CAPABILITY_RULES,
): Capability[] {
  const baseName = modelBaseName(modelId);
  for (const rule of rules) {
    if (matches(rule, baseName)) return [...rule.capabilities];
  }
  return [...FALLBACK_CAPABILITIES];
}

/**
 * A {@link CapabilityDetector} bound to `rules`. The array is copied, so later changes to it do
 * not affect the detector.
 *
 * @example
 * const detect = capabilityDetector([
 *   { test: /^vision-/, capabilities: ['chat', 'vision'], description: 'vision models' },
 *   ...DEFAULT_CAPABILITY_RULES,
 * ]);
 * detect('vision-llava:7b') // → ['chat', 'vision']
 */
export function capabilityDetector(rules: readonly CapabilityRule[]): CapabilityDetector {
  const bound = [...rules];
  return (modelId) => detectCapabilities(modelId, bound);
}

/**
 * Normalises the `capabilities` option of `createRouter` — a rule table, a detector function, or
 * nothing (the defaults) — into a {@link CapabilityDetector}.
 *
 * @example
 * toCapabilityDetector(undefined)('bge-m3')               // → ['embeddings']
 * toCapabilityDetector(() => ['chat'])('bge-m3')           // → ['chat']
 */
export function toCapabilityDetector(
  option: readonly CapabilityRule[] | CapabilityDetector | undefined,
): CapabilityDetector {
  if (option === undefined) return capabilityDetector(DEFAULT_CAPABILITY_RULES);
  if (typeof option === 'function') return option;
  return capabilityDetector(option);
}
