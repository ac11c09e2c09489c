/** What llmlb learns from a backend besides whether it answers: its models' details and its load. */
import type { LoadFigures } from '../load-signals.js';
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

/** What one check learned from a backend beyond reachability. */
export interface BackendReport {
  type: EndpointType;
  models: ReportedModel[];
  /** Null when the type publishes no load figures or none could be read. */
  load: LoadFigures | null;
}

/** A positive integer, or null. */
export function positiveInt(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
}

/** A non-empty string, or null. */
export function nonEmpty(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}
