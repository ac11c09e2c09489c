/**
 * A model list with its entries: the ids `parseModelList` accepts, each with the entry it came
 * from, so that backends can read what else their lists carry (`max_model_len`, `owned_by`, …).
 */
import { parseModelList } from '../models/parse.js';

/** A parsed model list. */
export interface ModelList {
  /** Model ids, deduplicated, first occurrence first. */
  ids: string[];
  /** The entry of each id (same order). */
  entries: Record<string, unknown>[];
  /** `openai` (`data`) or `ollama` (`models` only). */
  shape: 'openai' | 'ollama';
  /** Both `data` and `models` (llama.cpp's server sends both). */
  both: boolean;
  /** The distinct `owned_by` values of OpenAI entries. */
  ownedBy: Set<string>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function idOf(entry: Record<string, unknown>, shape: ModelList['shape']): unknown {
  return shape === 'openai' ? entry.id : (entry.name ?? entry.model);
}

/**
 * Parses a model-list body (OpenAI or Ollama shape). Throws `ModelListError` like
 * `parseModelList` for anything that is not a model list.
 *
 * @example
 * readModelList({ data: [{ id: 'm', owned_by: 'vllm', max_model_len: 8192 }] }).ownedBy // Set { 'vllm' }
 */
export function readModelList(body: unknown): ModelList {
  const ids = parseModelList(body);
  const root = body as Record<string, unknown>;
  const hasData = root.data !== undefined && root.data !== null;
  const shape = hasData ? 'openai' : 'ollama';
  const raw = (hasData ? root.data : root.models) as unknown[];
  const byId = new Map<string, Record<string, unknown>>();
  const ownedBy = new Set<string>();
  for (const entry of raw) {
    if (!isObject(entry)) continue;
    const id = idOf(entry, shape);
    if (typeof id === 'string' && !byId.has(id)) byId.set(id, entry);
    if (typeof entry.owned_by === 'string') ownedBy.add(entry.owned_by);
  }
  const both = hasData && Array.isArray(root.models);
  return { ids, entries: ids.map((id) => byId.get(id) ?? {}), shape, both, ownedBy };
}
