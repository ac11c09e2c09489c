/**
 * vLLM and SGLang: both serve an OpenAI `/v1/models` whose entries carry `max_model_len` (the
 * context window) and Prometheus `/metrics` with their scheduler's figures.
 */
import type { LoadFigures } from '../load-signals.js';
import type { ReportedModel } from './types.js';
import { NO_FIGURES } from '../load-signals.js';
import { positiveInt } from './types.js';
import { readMetrics } from './prometheus.js';

/** The metric names of one engine. */
interface EngineMetrics {
  running: string;
  waiting: string;
  /** KV-cache usage metrics, first found wins (vLLM renamed it in its V1 engine). */
  kvCache: readonly string[];
}

/** Metric names per engine. */
export const ENGINE_METRICS: Readonly<Record<'vllm' | 'sglang', EngineMetrics>> = Object.freeze({
  vllm: { running: 'vllm:num_requests_running', waiting: 'vllm:num_requests_waiting', kvCache: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'] },
  sglang: { running: 'sglang:num_running_reqs', waiting: 'sglang:num_queue_reqs', kvCache: ['sglang:token_usage'] },
});

/**
 * The load figures in an engine's `/metrics` text; null when none of its metrics is there.
 *
 * @example
 * engineLoad('vllm', text) // { running: 2, waiting: 5, kv_cache_usage: 0.41, … }
 */
export function engineLoad(engine: 'vllm' | 'sglang', text: string): LoadFigures | null {
  const names = ENGINE_METRICS[engine];
  const values = readMetrics(text, [names.running, names.waiting, ...names.kvCache]);
  if (values.size === 0) return null;
  const kv = names.kvCache.map((name) => values.get(name)).find((v) => v !== undefined);
  return {
    ...NO_FIGURES,
    running: values.get(names.running) ?? null,
    waiting: values.get(names.waiting) ?? null,
    kv_cache_usage: kv === undefined ? null : Math.min(1, Math.max(0, kv)),
  };
}

/**
 * The models of a vLLM or SGLang `/v1/models` list with their context window (`max_model_len`).
 * Capabilities are left to the name rules.
 *
 * @example
 * engineModels([{ id: 'meta-llama/Llama-3.1-8B-Instruct', max_model_len: 32768 }])
 */
export function engineModels(entries: readonly Record<string, unknown>[]): ReportedModel[] {
  return entries.map((entry) => ({
    model_id: entry.id as string,
    capabilities: null,
    context_length: positiveInt(entry.max_model_len),
  }));
}
