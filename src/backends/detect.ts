/**
 * Endpoint type detection (docs/backends.md): first what the model list already tells for free
 * (the `Server` header, `owned_by`, the list's shape), confirmed by one GET of the type's own
 * route; with no such hint, Ollama's `/api/version` then llama.cpp's `/props`. At most two GETs.
 */
import { z } from 'zod';
import type { EndpointType } from '../schema.js';
import { parseLlamaCppProps } from './llama-cpp.js';
import type { ModelList } from './model-list.js';
import type { ReadRoute } from './read.js';
import { parseJson } from './upstream.js';

/** A type a `Server` header names. */
const SERVER_HEADERS: readonly [RegExp, EndpointType][] = [
  [/llama\.cpp|llama-server/i, 'llama.cpp'],
  [/ollama/i, 'ollama'],
  [/vllm/i, 'vllm'],
  [/sglang/i, 'sglang'],
  [/lm ?studio/i, 'lm-studio'],
];

/** `owned_by` values each server puts in its `/v1/models`. */
const OWNED_BY: Readonly<Record<string, EndpointType>> = Object.freeze({
  vllm: 'vllm',
  sglang: 'sglang',
  llamacpp: 'llama.cpp',
  organization_owner: 'lm-studio',
  library: 'ollama',
});

/**
 * The type the model-list answer hints at, without any request: its `Server` header, llama.cpp's
 * double list (`data` and `models`), an Ollama-shaped list, then `owned_by`. Null: no hint.
 *
 * @example
 * typeHint(readModelList(vllmBody), 'uvicorn') // 'vllm' (owned_by)
 */
export function typeHint(list: ModelList, server: string | null): EndpointType | null {
  for (const [pattern, type] of SERVER_HEADERS) if (server !== null && pattern.test(server)) return type;
  if (list.both) return 'llama.cpp';
  if (list.shape === 'ollama') return 'ollama';
  for (const owner of list.ownedBy) {
    const type = OWNED_BY[owner];
    if (type !== undefined) return type;
  }
  return null;
}

const versionSchema = z.looseObject({ version: z.string().min(1).max(100) });
const sglangInfoSchema = z.looseObject({ model_path: z.string(), is_generation: z.boolean() });
const lmStudioSchema = z.looseObject({ data: z.array(z.looseObject({ id: z.string(), state: z.string(), type: z.string() })) });

/** Each type's own route and how to tell its answer from anything else. */
const CONFIRM: Readonly<Record<Exclude<EndpointType, 'openai-compatible'>, { path: string; is: (body: unknown) => boolean }>> = {
  ollama: { path: '/api/version', is: (body) => versionSchema.safeParse(body).success },
  vllm: { path: '/version', is: (body) => versionSchema.safeParse(body).success },
  'llama.cpp': { path: '/props', is: (body) => parseLlamaCppProps(body) !== null },
  'lm-studio': { path: '/api/v0/models', is: (body) => lmStudioSchema.safeParse(body).success },
  sglang: { path: '/get_model_info', is: (body) => sglangInfoSchema.safeParse(body).success },
};

/** True when the type's own route answers like that type. */
async function confirms(type: Exclude<EndpointType, 'openai-compatible'>, read: ReadRoute): Promise<boolean> {
  const { path, is } = CONFIRM[type];
  const answer = await read(path);
  return answer !== null && is(parseJson(answer.text));
}

/**
 * Detects an endpoint's type: the hint of its model list confirmed by its own route, else
 * Ollama's `/api/version`, else llama.cpp's `/props`, else `openai-compatible`. Never throws.
 *
 * @example
 * await detectType(list, response.headers.get('server'), (path) => readOptional(target, path, options));
 */
export async function detectType(list: ModelList, server: string | null, read: ReadRoute): Promise<EndpointType> {
  const hint = typeHint(list, server);
  if (hint === 'openai-compatible') return hint;
  if (hint !== null) return (await confirms(hint, read)) ? hint : 'openai-compatible';
  if (await confirms('ollama', read)) return 'ollama';
  if (await confirms('llama.cpp', read)) return 'llama.cpp';
  return 'openai-compatible';
}
