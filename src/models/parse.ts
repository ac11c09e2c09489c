/**
 * Model-list parsers (SPEC §4): turn the body of an upstream's `GET /v1/models` into a list of
 * model ids. Two shapes are understood:
 *
 * - OpenAI: `{"object":"list","data":[{"id":"gpt-4o", …}, …]}` (`object` optional) — served by
 *   OpenAI, vLLM, llama.cpp server, LM Studio, Ollama's `/v1/models`, …;
 * - Ollama: `{"models":[{"name":"llama3.1:8b","model":"llama3.1:8b", …}, …]}` (`/api/tags`).
 *
 * When a body carries both (llama.cpp server does), `data` wins. Extra fields are ignored
 * everywhere. Ids are kept exactly as sent (no trimming, no case folding) and deduplicated,
 * first occurrence first.
 */
import { z } from 'zod';

/** Most entries a model list may have; longer lists are rejected as `too_many_entries`. */
export const MAX_MODEL_LIST_ENTRIES = 10_000;
/** Longest accepted model id, in UTF-16 code units. */
export const MAX_MODEL_ID_LENGTH = 512;

/** Why a body was rejected by {@link parseModelList} / {@link parseModelListText}. */
export type ModelListErrorReason =
  | 'invalid_json'
  | 'not_an_object'
  | 'not_a_model_list'
  | 'invalid_entry'
  | 'too_many_entries';

/**
 * Thrown when a body is not a model list. `message` says what was wrong (it never contains the
 * body itself); `reason` is a stable code; `index` is the 0-based position of the offending entry
 * for `invalid_entry`.
 *
 * @example
 * try { parseModelList(body) }
 * catch (err) { if (err instanceof ModelListError && err.reason === 'invalid_entry') report(err.index) }
 */
export class ModelListError extends Error {
  override readonly name = 'ModelListError';
  readonly reason: ModelListErrorReason;
  readonly index: number | undefined;

  constructor(reason: ModelListErrorReason, message: string, index?: number) {
    super(message);
    this.reason = reason;
    this.index = index;
  }
}

const NOT_A_MODEL_LIST = 'expected {"data":[…]} (OpenAI) or {"models":[…]} (Ollama)';

const objectSchema = z.record(z.string(), z.unknown());
const entryListSchema = z.array(z.unknown());
const modelIdSchema = z.string().min(1).max(MAX_MODEL_ID_LENGTH);

/** Short, body-free description of a JSON value's type, for error messages. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

function readId(entry: Record<string, unknown>, field: string, index: number): string {
  const value = entry[field];
  const result = modelIdSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  let problem: string;
  if (issue?.code === 'too_small') problem = 'is empty';
  else if (issue?.code === 'too_big') {
    problem = `is ${(value as string).length} characters long (at most ${MAX_MODEL_ID_LENGTH} allowed)`;
  } else problem = `must be a string, got ${describe(value)}`;
  throw new ModelListError('invalid_entry', `model list entry ${index}: "${field}" ${problem}`, index);
}

function readEntries(list: unknown, key: 'data' | 'models'): unknown[] {
  const parsed = entryListSchema.safeParse(list);
  if (!parsed.success) {
    throw new ModelListError('not_a_model_list', `not a model list: "${key}" must be an array, got ${describe(list)}`);
  }
  if (parsed.data.length > MAX_MODEL_LIST_ENTRIES) {
    throw new ModelListError(
      'too_many_entries',
      `model list has ${parsed.data.length} entries (at most ${MAX_MODEL_LIST_ENTRIES} allowed)`,
    );
  }
  return parsed.data;
}

function entryObject(entry: unknown, index: number): Record<string, unknown> {
  const parsed = objectSchema.safeParse(entry);
  if (parsed.success && !Array.isArray(entry)) return parsed.data;
  throw new ModelListError('invalid_entry', `model list entry ${index} must be an object, got ${describe(entry)}`, index);
}

function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/**
 * Extracts the model ids from a parsed `/v1/models` (OpenAI) or `/api/tags` (Ollama) body.
 *
 * - OpenAI entries need a string `id`; Ollama entries a string `name` (preferred) or `model`.
 *   A `null` field counts as absent.
 * - Ids are returned untrimmed, deduplicated, in first-seen order; an empty list is valid.
 * - Throws {@link ModelListError} for anything else: a non-object body, a body without a
 *   `data`/`models` array, an entry without a usable id, an empty id or one longer than
 *   {@link MAX_MODEL_ID_LENGTH}, more than {@link MAX_MODEL_LIST_ENTRIES} entries.
 *
 * @example
 * parseModelList({ object: 'list', data: [{ id: 'gpt-4o' }, { id: 'text-embedding-3-small' }] })
 * // → ['gpt-4o', 'text-embedding-3-small']
 * parseModelList({ models: [{ name: 'llama3.1:8b', model: 'llama3.1:8b' }] })
 * // → ['llama3.1:8b']
 */
export function parseModelList(body: unknown): string[] {
  const root = objectSchema.safeParse(body);
  if (!root.success || Array.isArray(body)) {
    throw new ModelListError('not_an_object', `not a model list: ${NOT_A_MODEL_LIST}, got ${describe(body)}`);
  }
  const { data, models } = root.data;

  let ids: string[];
  if (isPresent(data)) {
    ids = readEntries(data, 'data').map((entry, index) => {
      const object = entryObject(entry, index);
      if (!isPresent(object.id)) {
        throw new ModelListError('invalid_entry', `model list entry ${index} has no "id"`, index);
      }
      return readId(object, 'id', index);
    });
  } else if (isPresent(models)) {
    ids = readEntries(models, 'models').map((entry, index) => {
      const object = entryObject(entry, index);
      if (isPresent(object.name)) return readId(object, 'name', index);
      if (isPresent(object.model)) return readId(object, 'model', index);
      throw new ModelListError('invalid_entry', `model list entry ${index} has no "name" or "model"`, index);
    });
  } else {
    throw new ModelListError('not_a_model_list', `not a model list: ${NOT_A_MODEL_LIST}`);
  }
  return [...new Set(ids)];
}

/**
 * JSON-parses `text`, then behaves like {@link parseModelList}. Invalid JSON throws
 * {@link ModelListError} with reason `invalid_json` (the text itself is not echoed).
 *
 * @example
 * parseModelListText('{"data":[{"id":"llama3.1:8b"}]}') // → ['llama3.1:8b']
 * parseModelListText('<html>…')                        // throws ModelListError('invalid_json')
 */
export function parseModelListText(text: string): string[] {
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    throw new ModelListError('invalid_json', 'not a model list: the response body is not valid JSON');
  }
  return parseModelList(body);
}
