/**
 * What each type of server tells besides its model list, read once per check with a fixed
 * number of requests (never one per model per check): Ollama's `/api/ps` and `/api/show` (only
 * for digests not yet cached), LM Studio's `/api/v0/models`, llama.cpp's `/props` and `/slots`
 * (or `/metrics`), vLLM's and SGLang's `/metrics`.
 */
import type { Capability, EndpointType } from '../schema.js';
import { engineLoad, engineModels } from './engines.js';
import { LLAMA_CPP_TOLD_CAPABILITIES, llamaCppLoad, llamaCppModels, parseLlamaCppProps, parseLlamaCppSlots } from './llama-cpp.js';
import { LM_STUDIO_TOLD_CAPABILITIES, lmStudioLoad, parseLmStudioModels } from './lm-studio.js';
import type { ModelList } from './model-list.js';
import { OLLAMA_TOLD_CAPABILITIES, type OllamaShow, ollamaDigest, ollamaLoad, ollamaModels, parseOllamaPs, parseOllamaShow } from './ollama.js';
import type { BackendReport, ReportedModel } from './types.js';
import { type OptionalRead, parseJson } from './upstream.js';

/** Reads an optional route of the endpoint (a POST when `body` is given); null: no 2xx answer. */
export type ReadRoute = (path: string, body?: unknown) => Promise<OptionalRead | null>;

/** Most `/api/show` requests one check sends; the other new digests wait for the next checks. */
export const SHOW_PER_CHECK = 4;
/** Most digests the `/api/show` cache keeps (oldest dropped first). */
const SHOW_CACHE_SIZE = 2048;

/**
 * Ollama's `/api/show` answers by model digest, shared by every endpoint of a router: a model
 * is asked about once, whatever the number of checks or of servers holding it.
 *
 * @example
 * const cache = new OllamaShowCache();
 * cache.get('sha256…'); // undefined until fetched
 */
export class OllamaShowCache {
  readonly #byDigest = new Map<string, OllamaShow>();

  /** What is known of a digest. */
  get(digest: string): OllamaShow | undefined {
    return this.#byDigest.get(digest);
  }

  /** Remembers what `/api/show` said of a digest. */
  set(digest: string, show: OllamaShow): void {
    this.#byDigest.delete(digest);
    this.#byDigest.set(digest, show);
    if (this.#byDigest.size > SHOW_CACHE_SIZE) this.#byDigest.delete(this.#byDigest.keys().next().value as string);
  }
}

const json = async (read: ReadRoute, path: string, body?: unknown): Promise<unknown> => {
  const answer = await read(path, body);
  return answer === null ? undefined : parseJson(answer.text);
};

const text = async (read: ReadRoute, path: string): Promise<string | null> => (await read(path))?.text ?? null;

/** Ollama: `/api/ps` each check, `/api/show` for at most {@link SHOW_PER_CHECK} digests not yet cached. */
async function readOllama(list: ModelList, read: ReadRoute, cache: OllamaShowCache): Promise<BackendReport> {
  const missing = list.ids.flatMap((id, i) => {
    const digest = ollamaDigest(list.entries[i] ?? {});
    return digest !== null && cache.get(digest) === undefined ? [{ id, digest }] : [];
  });
  const [running] = await Promise.all([
    json(read, '/api/ps').then(parseOllamaPs),
    ...missing.slice(0, SHOW_PER_CHECK).map(async ({ id, digest }) => {
      const show = parseOllamaShow(await json(read, '/api/show', { model: id }));
      if (show !== null) cache.set(digest, show);
    }),
  ]);
  return { type: 'ollama', models: ollamaModels(list, (digest) => cache.get(digest), running ?? null), load: ollamaLoad(running ?? null) };
}

/** LM Studio: its richer `/api/v0/models` (models it does not list there keep the plain entry). */
async function readLmStudio(list: ModelList, read: ReadRoute): Promise<BackendReport> {
  const rich = parseLmStudioModels(await json(read, '/api/v0/models'));
  if (rich === null) return plain('lm-studio', list);
  const byId = new Map(rich.map((m) => [m.model_id, m]));
  const models = list.ids.map((id) => byId.get(id) ?? { model_id: id, capabilities: null });
  return { type: 'lm-studio', models, load: lmStudioLoad(rich) };
}

/** llama.cpp: `/props` and `/slots`, or `/metrics` when slots are off. */
async function readLlamaCpp(list: ModelList, read: ReadRoute): Promise<BackendReport> {
  const [props, slots] = await Promise.all([json(read, '/props').then(parseLlamaCppProps), json(read, '/slots').then(parseLlamaCppSlots)]);
  const metrics = slots === null ? await text(read, '/metrics') : null;
  return { type: 'llama.cpp', models: llamaCppModels(list, props), load: llamaCppLoad(props, slots, metrics) };
}

/** vLLM and SGLang: context windows from the list, load from `/metrics`. */
async function readEngine(type: 'vllm' | 'sglang', list: ModelList, read: ReadRoute): Promise<BackendReport> {
  const metrics = await text(read, '/metrics');
  return { type, models: engineModels(list.entries), load: metrics === null ? null : engineLoad(type, metrics) };
}

/** The report of a server that tells nothing more than its list. */
function plain(type: EndpointType, list: ModelList): BackendReport {
  const models: ReportedModel[] = list.ids.map((model_id) => ({ model_id, capabilities: null }));
  return { type, models, load: null };
}

/**
 * Reads what a server of `type` tells besides `list`. Never throws: what cannot be read is
 * unknown.
 *
 * @example
 * const report = await readBackend('vllm', list, (path) => readOptional(target, path, options), cache);
 */
export function readBackend(type: EndpointType, list: ModelList, read: ReadRoute, cache: OllamaShowCache): Promise<BackendReport> {
  switch (type) {
    case 'ollama':
      return readOllama(list, read, cache);
    case 'lm-studio':
      return readLmStudio(list, read);
    case 'llama.cpp':
      return readLlamaCpp(list, read);
    case 'vllm':
    case 'sglang':
      return readEngine(type, list, read);
    default:
      return Promise.resolve(plain(type, list));
  }
}

const NOTHING_TOLD: readonly Capability[] = Object.freeze([]);

/**
 * The capabilities a type of server tells of its models, present or absent: of a model whose
 * `capabilities_source` is `backend`, these are known (a missing one is missing); any other
 * capability is still unknown. Ollama tells `chat`, `embeddings`, `vision` and `tools`; LM Studio
 * `chat`, `vision` and `embeddings`; llama.cpp only `vision`.
 *
 * @example
 * toldCapabilities('lm-studio').includes('tools') // false: an LM Studio model may still take tools
 */
export function toldCapabilities(type: EndpointType): readonly Capability[] {
  switch (type) {
    case 'ollama':
      return OLLAMA_TOLD_CAPABILITIES;
    case 'lm-studio':
      return LM_STUDIO_TOLD_CAPABILITIES;
    case 'llama.cpp':
      return LLAMA_CPP_TOLD_CAPABILITIES;
    default:
      return NOTHING_TOLD;
  }
}
