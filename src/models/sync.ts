/**
 * Model sync (SPEC §4): turns a freshly discovered list of model ids into the endpoint's stored
 * model set, with capabilities detected from each name. Used by health checks (`syncOnCheck`)
 * and by `router.endpoints.sync`.
 */
import { type Clock, isoAt } from '../clock.js';
import type { DiscoveredModel, ModelSetDiff } from '../schema.js';
import type { CapabilityDetector } from './capabilities.js';

/** Where a synced model set is written (the endpoint store). */
export interface ModelSetWriter {
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
    const discovered = modelIds.map((model_id) => ({ model_id, capabilities: detect(model_id) }));
    return writer.replaceModels(endpointId, discovered, isoAt(clock));
  };
}
