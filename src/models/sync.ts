/**
 * Model sync (SPEC §4): turns a freshly discovered list of models into the endpoint's stored
 * model set. Capabilities the backend reported win over the name rules (which decide for the
 * others); each stored model says which it was (`capabilities_source`). Used by health checks
 * (`syncOnCheck`) and by `router.endpoints.sync`. An endpoint with a static model list keeps it:
 * its model set is the static list (its given capabilities count as the backend's), whatever was
 * discovered.
 */
import type { ReportedModel } from '../backends/types.js';
import { type Clock, isoAt } from '../clock.js';
import type { DiscoveredModel, EndpointRecord, ModelSetDiff } from '../schema.js';
import { staticReport } from '../static-models.js';
import type { CapabilityDetector } from './capabilities.js';

/** Where a synced model set is written (the endpoint store), and where the endpoint's static list is read. */
export interface ModelSetWriter {
  readonly registry: { getEndpoint(id: string): EndpointRecord | undefined };
  replaceModels(endpointId: string, models: readonly DiscoveredModel[], checkedAt: string): Promise<ModelSetDiff | undefined>;
}

/** Stores `models` (ids, or models as a backend reported them) as an endpoint's model set; undefined when the endpoint is gone. */
export type ModelSync = (endpointId: string, models: readonly (string | ReportedModel)[]) => Promise<ModelSetDiff | undefined>;

/**
 * A reported model as it is stored: the backend's capabilities (added to the name rules' when
 * it tells only some, as llama.cpp does) or, when it told none, the name rules'.
 *
 * @example
 * toDiscovered({ model_id: 'llava:7b', capabilities: ['chat', 'vision'] }, detectCapabilities)
 * // → { model_id: 'llava:7b', capabilities: ['chat', 'vision'], capabilities_source: 'backend' }
 */
export function toDiscovered(model: string | ReportedModel, detect: CapabilityDetector): DiscoveredModel {
  if (typeof model === 'string') return { model_id: model, capabilities: detect(model), capabilities_source: 'name' };
  const { capabilities, withNameRules, ...metadata } = model;
  if (capabilities === null) return { ...metadata, capabilities: detect(model.model_id), capabilities_source: 'name' };
  const merged = withNameRules ? [...new Set([...detect(model.model_id), ...capabilities])] : [...capabilities];
  return { ...metadata, capabilities: merged, capabilities_source: 'backend' };
}

/**
 * Builds the model sync of a router.
 *
 * @example
 * const sync = modelSync(store, detectCapabilities, systemClock);
 * const diff = await sync(endpoint.id, ['llama3.1:8b']); // { added: ['llama3.1:8b'], removed: [], updated: [] }
 */
export function modelSync(writer: ModelSetWriter, detect: CapabilityDetector, clock: Clock): ModelSync {
  return (endpointId, models) => {
    const fixed = writer.registry.getEndpoint(endpointId)?.static_models;
    const discovered = (fixed ? staticReport(fixed) : models).map((model) => toDiscovered(model, detect));
    return writer.replaceModels(endpointId, discovered, isoAt(clock));
  };
}
