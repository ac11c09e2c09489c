/** What llmlb learns from a backend besides whether it answers: its models' details and its load. */
import type { Capability, EndpointType, ModelMetadata } from '../schema.js';

/**
 * A model as a backend reported it: `capabilities` when the backend said what the model does
 * (null: the name rules decide), and whatever metadata it gave.
 */
export interface ReportedModel extends Partial<Omit<ModelMetadata, 'capabilities_source'>> {
  model_id: string;
  capabilities: Capability[] | null;
  /**
   * The backend's capabilities add to what the name rules give (llama.cpp tells only whether a
   * model takes images) instead of replacing them.
   */
  withNameRules?: boolean;
}

/**
 * The load a server publishes about itself, read at check time. Every figure is null when the
 * server does not publish it.
 */
export interface BackendLoad {
  /** Requests the server is working on (vLLM, SGLang: running; llama.cpp: busy slots). */
  running: number | null;
  /** Requests waiting inside the server for a slot or batch place. */
  waiting: number | null;
  /** Share of the KV cache in use, 0–1. */
  kv_cache_usage: number | null;
  /** Requests the server can work on at once (llama.cpp's slots). */
  slots_total: number | null;
  /** Models in memory now (Ollama's `/api/ps`, LM Studio's `state`). */
  loaded_models: string[] | null;
}

/** A {@link BackendLoad} that says nothing. */
export const NO_LOAD: Readonly<BackendLoad> = Object.freeze({
  running: null,
  waiting: null,
  kv_cache_usage: null,
  slots_total: null,
  loaded_models: null,
});

/** What one check learned from a backend beyond reachability. */
export interface BackendReport {
  type: EndpointType;
  models: ReportedModel[];
  /** Null when the type publishes no load figures or none could be read. */
  load: BackendLoad | null;
}

/** A positive integer, or null. */
export function positiveInt(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
}

/** A non-empty string, or null. */
export function nonEmpty(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}
