/**
 * Ollama's native API: `/api/tags` (the model list with size, digest and quantisation),
 * `/api/ps` (the models in memory now, with their allocated context) and `POST /api/show` (a
 * model's capabilities and trained context window, read once per digest).
 */
import { z } from 'zod';
import type { Capability } from '../schema.js';
import type { ModelList } from './model-list.js';
import { NO_FIGURES, type LoadFigures } from '../load-signals.js';
import { type ReportedModel, nonEmpty, positiveInt } from './types.js';

/** Ollama's capability names → llmlb's. Others (`insert`, `thinking`, …) are not routed on. */
const CAPABILITIES: Readonly<Record<string, Capability>> = Object.freeze({
  completion: 'chat',
  embedding: 'embeddings',
  vision: 'vision',
  tools: 'tools',
});

/** The capabilities `/api/show` tells of a model, present or absent: known for an Ollama's models. */
export const OLLAMA_TOLD_CAPABILITIES: readonly Capability[] = Object.freeze(Object.values(CAPABILITIES));

/** What `/api/show` tells of a model (cached by digest). */
export interface OllamaShow {
  capabilities: Capability[] | null;
  context_length: number | null;
}

const showSchema = z.looseObject({
  capabilities: z.array(z.string()).optional(),
  model_info: z.record(z.string(), z.unknown()).optional(),
});

/**
 * Reads a `POST /api/show` answer: its capabilities (mapped to llmlb's names; null when the
 * server is too old to list them) and `<architecture>.context_length` from `model_info`.
 *
 * @example
 * parseOllamaShow({ capabilities: ['completion', 'vision'], model_info: { 'general.architecture': 'llama', 'llama.context_length': 8192 } })
 * // → { capabilities: ['chat', 'vision'], context_length: 8192 }
 */
export function parseOllamaShow(body: unknown): OllamaShow | null {
  const parsed = showSchema.safeParse(body);
  if (!parsed.success) return null;
  const { capabilities, model_info: info } = parsed.data;
  const mapped = capabilities?.flatMap((c) => (CAPABILITIES[c] === undefined ? [] : [CAPABILITIES[c]]));
  const arch = info?.['general.architecture'];
  const context = typeof arch === 'string' ? positiveInt(info?.[`${arch}.context_length`]) : null;
  return { capabilities: mapped ?? null, context_length: context };
}

/** A model Ollama has in memory: its name and the context it was loaded with. */
export interface OllamaRunning {
  model_id: string;
  context_length: number | null;
}

const psSchema = z.looseObject({
  models: z.array(z.looseObject({ name: z.string().optional(), model: z.string().optional(), context_length: z.unknown() })),
});

/**
 * Reads an `/api/ps` answer: the models in memory now; null when it is not one.
 *
 * @example
 * parseOllamaPs({ models: [{ name: 'llama3.1:8b', model: 'llama3.1:8b', context_length: 4096 }] })
 */
export function parseOllamaPs(body: unknown): OllamaRunning[] | null {
  const parsed = psSchema.safeParse(body);
  if (!parsed.success) return null;
  return parsed.data.models.flatMap((m) => {
    const id = m.name ?? m.model;
    return id === undefined ? [] : [{ model_id: id, context_length: positiveInt(m.context_length) }];
  });
}

/** The digest of an `/api/tags` entry (the key of the `/api/show` cache), or null. */
export function ollamaDigest(entry: Record<string, unknown>): string | null {
  return nonEmpty(entry.digest);
}

/**
 * The models of an Ollama list (`/api/tags`, or its `/v1/models`) with what is known of each:
 * size and quantisation from the tags, capabilities and trained context from `show` (by
 * digest), whether it is loaded and its allocated context from `/api/ps` (`running`, null when
 * that could not be read).
 */
export function ollamaModels(
  list: ModelList,
  show: (digest: string) => OllamaShow | undefined,
  running: readonly OllamaRunning[] | null,
): ReportedModel[] {
  const inMemory = new Map(running?.map((r) => [r.model_id, r]) ?? []);
  return list.ids.map((model_id, i) => {
    const entry = list.entries[i] ?? {};
    const digest = ollamaDigest(entry);
    const details = (entry.details ?? {}) as Record<string, unknown>;
    const shown = digest === null ? undefined : show(digest);
    const loaded = inMemory.get(model_id);
    return {
      model_id,
      capabilities: shown?.capabilities ?? null,
      context_length: loaded?.context_length ?? shown?.context_length ?? null,
      loaded: running === null ? null : loaded !== undefined,
      size_bytes: positiveInt(entry.size),
      quantization: nonEmpty(details.quantization_level),
    };
  });
}

/** The load Ollama publishes: which models are in memory (it has no queue figures). */
export function ollamaLoad(running: readonly OllamaRunning[] | null): LoadFigures | null {
  return running === null ? null : { ...NO_FIGURES, loaded_models: running.map((r) => r.model_id) };
}
