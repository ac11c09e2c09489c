/**
 * LM Studio's native `/api/v0/models`: every downloaded model with its `type` (`llm`, `vlm`,
 * `embeddings`), `state` (`loaded` / `not-loaded`), `max_context_length` and `quantization`.
 */
import { z } from 'zod';
import type { Capability } from '../schema.js';
import { NO_FIGURES, type LoadFigures } from '../load-signals.js';
import { type ReportedModel, nonEmpty, positiveInt } from './types.js';

/** LM Studio's model types → llmlb's capabilities. */
const CAPABILITIES: Readonly<Record<string, readonly Capability[]>> = Object.freeze({
  llm: ['chat'],
  vlm: ['chat', 'vision'],
  embeddings: ['embeddings'],
});

/** The capabilities a model's `type` tells, present or absent (not `tools`: LM Studio's type says nothing of them). */
export const LM_STUDIO_TOLD_CAPABILITIES: readonly Capability[] = Object.freeze([...new Set(Object.values(CAPABILITIES).flat())]);

const listSchema = z.looseObject({
  data: z.array(z.looseObject({ id: z.string().min(1).max(512), type: z.unknown(), state: z.unknown(), max_context_length: z.unknown(), quantization: z.unknown() })),
});

/**
 * Reads an `/api/v0/models` answer; null when it is not one.
 *
 * @example
 * parseLmStudioModels({ data: [{ id: 'qwen2-vl-7b-instruct', type: 'vlm', state: 'loaded', max_context_length: 32768 }] })
 * // → [{ model_id: 'qwen2-vl-7b-instruct', capabilities: ['chat', 'vision'], loaded: true, context_length: 32768, … }]
 */
export function parseLmStudioModels(body: unknown): ReportedModel[] | null {
  const parsed = listSchema.safeParse(body);
  if (!parsed.success) return null;
  const seen = new Set<string>();
  return parsed.data.data.flatMap((m) => {
    if (seen.has(m.id)) return [];
    seen.add(m.id);
    const capabilities = typeof m.type === 'string' ? CAPABILITIES[m.type] : undefined;
    return [
      {
        model_id: m.id,
        capabilities: capabilities === undefined ? null : [...capabilities],
        context_length: positiveInt(m.max_context_length),
        loaded: m.state === 'loaded' ? true : m.state === 'not-loaded' ? false : null,
        quantization: nonEmpty(m.quantization),
      },
    ];
  });
}

/** The load LM Studio publishes: which models are loaded. */
export function lmStudioLoad(models: readonly ReportedModel[]): LoadFigures {
  return { ...NO_FIGURES, loaded_models: models.filter((m) => m.loaded === true).map((m) => m.model_id) };
}
