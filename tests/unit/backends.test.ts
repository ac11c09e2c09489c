/**
 * Backend detection, discovery, metadata and load-signal parsing, driven by the recorded
 * responses of `tests/fixtures/backends/` — no network: routes are read from the fixtures.
 */
import { describe, expect, it } from 'vitest';
import { detectType, typeHint } from '../../src/backends/detect.js';
import { engineLoad } from '../../src/backends/engines.js';
import { llamaCppLoad, parseLlamaCppProps, parseLlamaCppSlots } from '../../src/backends/llama-cpp.js';
import { readModelList } from '../../src/backends/model-list.js';
import { parseOllamaShow } from '../../src/backends/ollama.js';
import { readMetrics } from '../../src/backends/prometheus.js';
import { OllamaShowCache, type ReadRoute, SHOW_PER_CHECK, readBackend } from '../../src/backends/read.js';
import { NO_FIGURES } from '../../src/load-signals.js';
import { toDiscovered } from '../../src/models/sync.js';
import { detectCapabilities } from '../../src/models/capabilities.js';
import { ENDPOINT_TYPES, type EndpointType } from '../../src/schema.js';
import { backendFixture, backendJson } from '../helpers/fake-backend.js';

/** Every GET route each fixture directory records, by path. */
const RECORDED: Record<EndpointType, Record<string, string>> = {
  ollama: { '/api/version': 'api-version.json', '/api/tags': 'api-tags.json', '/api/ps': 'api-ps.json' },
  vllm: { '/version': 'version.json', '/metrics': 'metrics.txt' },
  'llama.cpp': { '/props': 'props.json', '/slots': 'slots.json', '/metrics': 'metrics.txt' },
  'lm-studio': { '/api/v0/models': 'api-v0-models.json' },
  sglang: { '/get_model_info': 'get_model_info.json', '/metrics': 'metrics.txt' },
  'openai-compatible': {},
};

/** Reads routes from a type's fixtures, recording which were asked. */
function fixtureReader(type: EndpointType, asked: string[] = []): ReadRoute {
  return async (path, body) => {
    asked.push(body === undefined ? path : `POST ${path}`);
    if (path === '/api/show' && type === 'ollama') {
      const model = (body as { model: string }).model;
      const file = model === 'nomic-embed-text:latest' ? 'api-show-nomic-embed-text.json' : model === 'qwen2.5vl:7b' ? 'api-show-qwen2.5-vl.json' : 'api-show-llama3.1.json';
      return { text: backendFixture('ollama', file), server: null };
    }
    const file = RECORDED[type][path];
    return file === undefined ? null : { text: backendFixture(type, file), server: null };
  };
}

const listOf = (type: EndpointType) => readModelList(backendJson(type, 'v1-models.json'));
const serverOf = (type: EndpointType) => (backendJson(type, 'headers.json') as Record<string, Record<string, string>>)['/v1/models']?.server ?? null;

describe('type detection', () => {
  it('detects every type from its recorded model list and at most two GETs', async () => {
    for (const type of ENDPOINT_TYPES) {
      const asked: string[] = [];
      expect(await detectType(listOf(type), serverOf(type), fixtureReader(type, asked)), type).toBe(type);
      expect(asked.length, type).toBeLessThanOrEqual(2);
    }
  });

  it('reads the hint for free: Server header, llama.cpp’s double list, Ollama’s shape, owned_by', () => {
    expect(typeHint(listOf('llama.cpp'), null)).toBe('llama.cpp');
    expect(typeHint(readModelList(backendJson('ollama', 'api-tags.json')), null)).toBe('ollama');
    expect(typeHint(listOf('vllm'), 'uvicorn')).toBe('vllm');
    expect(typeHint(listOf('sglang'), 'uvicorn')).toBe('sglang');
    expect(typeHint(listOf('lm-studio'), null)).toBe('lm-studio');
    expect(typeHint(listOf('openai-compatible'), null)).toBeNull();
    expect(typeHint(listOf('openai-compatible'), 'llama.cpp')).toBe('llama.cpp');
  });

  it('does not believe an unconfirmed hint: owned_by "vllm" without /version stays openai-compatible', async () => {
    expect(await detectType(listOf('vllm'), null, fixtureReader('openai-compatible'))).toBe('openai-compatible');
  });
});

describe('discovery and metadata', () => {
  it('Ollama: size, quantisation, capabilities and context from /api/show, loaded from /api/ps', async () => {
    const cache = new OllamaShowCache();
    const asked: string[] = [];
    const list = readModelList(backendJson('ollama', 'api-tags.json'));
    const report = await readBackend('ollama', list, fixtureReader('ollama', asked), cache);
    expect(asked.filter((a) => a === 'POST /api/show')).toHaveLength(SHOW_PER_CHECK);
    const llama = report.models.find((m) => m.model_id === 'llama3.1:8b');
    expect(llama).toEqual({ model_id: 'llama3.1:8b', capabilities: ['chat', 'tools'], context_length: 8192, loaded: true, size_bytes: 4920753328, quantization: 'Q4_K_M' });
    expect(report.models.find((m) => m.model_id === 'nomic-embed-text:latest')).toMatchObject({ capabilities: ['embeddings'], context_length: 2048, loaded: false });
    expect(report.load).toEqual({ ...NO_FIGURES, loaded_models: ['llama3.1:8b'] });

    // The next check asks only about the digests not cached yet; then nothing.
    const again: string[] = [];
    const second = await readBackend('ollama', list, fixtureReader('ollama', again), cache);
    expect(again.filter((a) => a === 'POST /api/show')).toHaveLength(list.ids.length - SHOW_PER_CHECK);
    expect(second.models.find((m) => m.model_id === 'qwen2.5vl:7b')?.capabilities).toEqual(['chat', 'vision']);
    const third: string[] = [];
    await readBackend('ollama', list, fixtureReader('ollama', third), cache);
    expect(third).toEqual(['/api/ps']);
  });

  it('LM Studio: type, state, context and quantisation from /api/v0/models', async () => {
    const report = await readBackend('lm-studio', listOf('lm-studio'), fixtureReader('lm-studio'), new OllamaShowCache());
    expect(report.models.map((m) => [m.model_id, m.capabilities, m.loaded, m.context_length])).toEqual([
      ['qwen2.5-7b-instruct', ['chat'], true, 32768],
      ['meta-llama-3.1-8b-instruct', ['chat'], false, 131072],
      ['text-embedding-nomic-embed-text-v1.5', ['embeddings'], false, 2048],
      ['lmstudio-community/gemma-2-9b-it-GGUF', ['chat'], false, 8192],
    ]);
    expect(report.load?.loaded_models).toEqual(['qwen2.5-7b-instruct']);
  });

  it('llama.cpp: a slot’s context from /props, busy slots from /slots, the name rules plus vision', async () => {
    const report = await readBackend('llama.cpp', listOf('llama.cpp'), fixtureReader('llama.cpp'), new OllamaShowCache());
    expect(report.models).toEqual([
      { model_id: '/models/Qwen2.5-7B-Instruct-Q4_K_M.gguf', capabilities: [], withNameRules: true, context_length: 8192, size_bytes: 4677120000 },
    ]);
    expect(report.load).toEqual({ ...NO_FIGURES, slots_busy: 2, slots_total: 4 });
    expect(toDiscovered(report.models[0]!, detectCapabilities)).toMatchObject({ capabilities: ['chat'], capabilities_source: 'backend' });
  });

  it('vLLM and SGLang: max_model_len and their /metrics', async () => {
    const vllm = await readBackend('vllm', listOf('vllm'), fixtureReader('vllm'), new OllamaShowCache());
    expect(vllm.models.map((m) => [m.model_id, m.context_length])).toEqual([
      ['meta-llama/Meta-Llama-3.1-8B-Instruct', 32768],
      ['sql-lora', null],
    ]);
    expect(vllm.load).toEqual({ ...NO_FIGURES, running: 3, waiting: 5, kv_cache_usage: 0.4172 });
    const sglang = await readBackend('sglang', listOf('sglang'), fixtureReader('sglang'), new OllamaShowCache());
    expect(sglang.models[0]?.context_length).toBe(131072);
    expect(sglang.load).toEqual({ ...NO_FIGURES, running: 2, waiting: 7, kv_cache_usage: 0.28 });
  });

  it('openai-compatible: nothing more than the list, nothing asked', async () => {
    const asked: string[] = [];
    const report = await readBackend('openai-compatible', listOf('openai-compatible'), fixtureReader('openai-compatible', asked), new OllamaShowCache());
    expect(asked).toEqual([]);
    expect(report.load).toBeNull();
    expect(report.models.every((m) => m.capabilities === null)).toBe(true);
  });

  it('what cannot be read is unknown, never an error', async () => {
    const nothing: ReadRoute = async () => null;
    const report = await readBackend('ollama', readModelList(backendJson('ollama', 'api-tags.json')), nothing, new OllamaShowCache());
    expect(report.load).toBeNull();
    expect(report.models[0]).toMatchObject({ capabilities: null, loaded: null, context_length: null, quantization: 'Q4_K_M' });
    expect(parseOllamaShow({ capabilities: 'vision' })).toBeNull();
    expect(parseLlamaCppProps({ hello: 'world' })).toBeNull();
    expect(parseLlamaCppSlots({ slots: [] })).toBeNull();
  });
});

describe('load signals', () => {
  it('sums a metric over its label sets and ignores everything else', () => {
    const text = 'm{a="1"} 2\nm{a="2"} 3.5\n# m 100\nother 7\nm{a="3"} NaN\nm';
    expect(readMetrics(text, ['m', 'absent'])).toEqual(new Map([['m', 5.5]]));
  });

  it('reads the newer vLLM KV-cache metric and clamps usage to 0–1', () => {
    expect(engineLoad('vllm', 'vllm:kv_cache_usage_perc{model_name="m"} 1.7\n')).toEqual({ ...NO_FIGURES, kv_cache_usage: 1 });
    expect(engineLoad('sglang', backendFixture('vllm', 'metrics.txt'))).toBeNull();
  });

  it('llama.cpp without /slots: running and deferred requests from /metrics, slots from /props', () => {
    const props = parseLlamaCppProps(backendJson('llama.cpp', 'props.json'));
    expect(llamaCppLoad(props, null, backendFixture('llama.cpp', 'metrics.txt'))).toEqual({
      ...NO_FIGURES,
      running: 2,
      waiting: 1,
      kv_cache_usage: 0.23,
      slots_total: 4,
    });
    expect(llamaCppLoad(null, null, null)).toBeNull();
  });
});
