/**
 * Model sync (SPEC §4): turns a freshly discovered list of model ids into the endpoint's stored
 * model set, with capabilities detected from each name. Used by health checks (`syncOnCheck`)
 * and by `router.endpoints.sync`. An endpoint with a static model list keeps it: its model set is
 * the static list, whatever was discovered.
 */
import { type Clock, isoAt } from '../clock.js';
import type { DiscoveredModel, EndpointRecord, ModelSetDiff } from '../schema.js';
import { staticModelSet } from '../static-models.js';
import type { CapabilityDetector } from './capabilities.js';

/** Where a synced model set is written (the endpoint store), and where the endpoint's static list is read. */
export interface ModelSetWriter {
  readonly registry: { getEndpoint(id: string): EndpointRecord | undefined };
  replaceModels(endpointId: string, models: readonly DiscoveredModel[], checkedAt: string): Promise<ModelSetDiff | undefined>;
}

/** Stores `modelIds` as an endpoint's model set; undefined when the endpoint is gone. */
export type ModelSync = (endpointId: string, modelIds: readonly string[]) => Promise<ModelSetDiff | undefined>;

/**
 * Builds the model sync of a router.
 *
 * @example
 * const sync = modelSync(store, detectCapabilities, systemClock);
 * const diff = await sync(endpoint.id, ['llama3.1:8b']); // { added: ['llama3.1:8b'], removed: [], updated: [] }
 */
export function modelSync(writer: ModelSetWriter, detect: CapabilityDetector, clock: Clock): ModelSync {
  return (endpointId, modelIds) => {
    const fixed = writer.registry.getEndpoint(endpointId)?.static_models;
    const models = fixed ? staticModelSet(fixed, detect) : modelIds.map((model_id) => ({ model_id, capabilities: detect(model_id) }));
    return writer.replaceModels(endpointId, models, isoAt(clock));
  };
}
