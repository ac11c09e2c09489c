/**
 * llama.cpp's `llama-server`: `/props` (its slots and per-slot context, whether it takes
 * images), `/slots` (which slots are busy) or, when that is off, `/metrics`.
 */
import { z } from 'zod';
import type { Capability } from '../schema.js';
import type { ModelList } from './model-list.js';
import { readMetrics } from './prometheus.js';
import { NO_FIGURES, type LoadFigures } from '../load-signals.js';
import { type ReportedModel, positiveInt } from './types.js';

/** What `/props` tells. */
export interface LlamaCppProps {
  /** Slots: requests it decodes at once (`-np`). */
  total_slots: number | null;
  /** Context window of each slot, in tokens. */
  n_ctx: number | null;
  /** Whether it takes images (null: too old to say). */
  vision: boolean | null;
}

const propsSchema = z.looseObject({
  total_slots: z.unknown(),
  default_generation_settings: z.looseObject({ n_ctx: z.unknown() }).optional(),
  modalities: z.looseObject({ vision: z.boolean().optional() }).optional(),
});

/**
 * Reads a `/props` answer; null when it is not one (no `total_slots` nor generation settings).
 *
 * @example
 * parseLlamaCppProps({ total_slots: 4, default_generation_settings: { n_ctx: 8192 }, modalities: { vision: false } })
 * // → { total_slots: 4, n_ctx: 8192, vision: false }
 */
export function parseLlamaCppProps(body: unknown): LlamaCppProps | null {
  const parsed = propsSchema.safeParse(body);
  if (!parsed.success) return null;
  const { total_slots, default_generation_settings: settings, modalities } = parsed.data;
  if (total_slots === undefined && settings === undefined) return null;
  return { total_slots: positiveInt(total_slots), n_ctx: positiveInt(settings?.n_ctx), vision: modalities?.vision ?? null };
}

const slotsSchema = z.array(z.looseObject({ is_processing: z.boolean().optional(), state: z.number().optional() }));

/**
 * Reads a `/slots` answer: how many slots there are and how many are busy; null when it is not
 * one. (Older servers say `state: 1` for a busy slot, newer ones `is_processing: true`.)
 *
 * @example
 * parseLlamaCppSlots([{ id: 0, is_processing: true }, { id: 1, is_processing: false }]) // { busy: 1, total: 2 }
 */
export function parseLlamaCppSlots(body: unknown): { busy: number; total: number } | null {
  const parsed = slotsSchema.safeParse(body);
  if (!parsed.success) return null;
  const busy = parsed.data.filter((s) => s.is_processing === true || s.state === 1).length;
  return { busy, total: parsed.data.length };
}

/** The one capability `/props` tells, present or absent: whether the model takes images. */
export const LLAMA_CPP_TOLD_CAPABILITIES: readonly Capability[] = Object.freeze(['vision']);

const METRICS = { running: 'llamacpp:requests_processing', waiting: 'llamacpp:requests_deferred', kvCache: 'llamacpp:kv_cache_usage_ratio' };

/**
 * The load of a llama.cpp server from `/slots` (busy slots) or, failing that, its `/metrics`
 * text (`--metrics`); null when neither says anything.
 *
 * @example
 * llamaCppLoad(props, { busy: 1, total: 2 }, null) // { slots_busy: 1, slots_total: 2, … }
 */
export function llamaCppLoad(props: LlamaCppProps | null, slots: { busy: number; total: number } | null, metrics: string | null): LoadFigures | null {
  const total = slots?.total || props?.total_slots || null;
  if (slots) return { ...NO_FIGURES, slots_busy: slots.busy, slots_total: total };
  const values = metrics === null ? new Map<string, number>() : readMetrics(metrics, Object.values(METRICS));
  if (values.size === 0) return total === null ? null : { ...NO_FIGURES, slots_total: total };
  const kv = values.get(METRICS.kvCache);
  return {
    ...NO_FIGURES,
    running: values.get(METRICS.running) ?? null,
    waiting: values.get(METRICS.waiting) ?? null,
    kv_cache_usage: kv === undefined ? null : Math.min(1, Math.max(0, kv)),
    slots_total: total,
  };
}

/**
 * The models of a llama.cpp server (one, normally): the context is a slot's (`/props`), else
 * the model's trained context (`meta.n_ctx_train`); `vision` joins the name rules' capabilities
 * when `/props` says it takes images.
 */
export function llamaCppModels(list: ModelList, props: LlamaCppProps | null): ReportedModel[] {
  return list.ids.map((model_id, i) => {
    const meta = (list.entries[i]?.meta ?? {}) as Record<string, unknown>;
    const vision: Capability[] | null = props?.vision == null ? null : props.vision ? ['vision'] : [];
    return {
      model_id,
      capabilities: vision,
      withNameRules: true,
      context_length: props?.n_ctx ?? positiveInt(meta.n_ctx_train),
      size_bytes: positiveInt(meta.size),
    };
  });
}
