/** The model-set diff shared by every storage adapter. */
import { type Capability, type DiscoveredModel, type ModelMetadata, type ModelSetDiff, modelMetadata } from '../schema.js';

/** What is stored of a model besides its ids: what a sync compares. */
export type StoredModelFacts = ModelMetadata & { capabilities: readonly Capability[] };

/** A discovered model with every metadata field filled in (defaults for what it left out). */
export type CompleteModel = DiscoveredModel & ModelMetadata;

/** How to turn a stored model set into a discovered one, as {@link planModelSet} works it out. */
export interface ModelSetPlan {
  /** The diff reported to the caller (every id kept counts as updated). */
  diff: ModelSetDiff;
  /** Models to write in full: the new ones and those whose capabilities or metadata changed. */
  rewrite: CompleteModel[];
  /** Ids of kept models whose capabilities and metadata are unchanged: only their `last_checked` moves. */
  touch: string[];
  /** True when the set, a capability or a model's metadata changed (a `models` change is recorded). */
  changed: boolean;
}

/**
 * Compares an endpoint's stored models (id → capabilities) with a freshly discovered set: ids
 * only in `next` are added, ids only in `current` removed, ids in both updated. Each list is
 * sorted.
 *
 * @example
 * const { diff, rewrite, touch } = planModelSet(new Map([['m', ['chat']]]), discovered);
 */
export function planModelSet(
  current: ReadonlyMap<string, StoredModelFacts>,
  next: readonly DiscoveredModel[],
): ModelSetPlan {
  // A model listed twice counts once, with its last capabilities.
  const after = new Map(next.map((m) => [m.model_id, completeModel(m)]));
  const added: string[] = [];
  const updated: string[] = [];
  const rewrite: CompleteModel[] = [];
  const touch: string[] = [];
  for (const model of after.values()) {
    const before = current.get(model.model_id);
    (before === undefined ? added : updated).push(model.model_id);
    if (before !== undefined && sameFacts(before, model)) touch.push(model.model_id);
    else rewrite.push(model);
  }
  const removed = [...current.keys()].filter((id) => !after.has(id));
  const diff = { added: added.sort(), removed: removed.sort(), updated: updated.sort() };
  return { diff, rewrite, touch, changed: rewrite.length > 0 || removed.length > 0 };
}

/** A copy of a discovered model with its metadata completed. */
export function completeModel(model: DiscoveredModel): CompleteModel {
  return { model_id: model.model_id, capabilities: [...model.capabilities], ...modelMetadata(model) };
}

/** Every metadata field, for comparisons. */
const METADATA_FIELDS = Object.keys(modelMetadata({})) as (keyof ModelMetadata)[];

/**
 * True when two models have the same capabilities (in order) and metadata.
 *
 * @example
 * sameFacts(stored, completeModel(discovered)) // false: it was loaded meanwhile
 */
export function sameFacts(a: StoredModelFacts, b: StoredModelFacts): boolean {
  if (METADATA_FIELDS.some((field) => a[field] !== b[field])) return false;
  return a.capabilities.length === b.capabilities.length && a.capabilities.every((c, i) => c === b.capabilities[i]);
}
