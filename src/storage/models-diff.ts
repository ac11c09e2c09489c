/** The model-set diff shared by every storage adapter. */
import type { Capability, DiscoveredModel, ModelSetDiff } from '../schema.js';

/** How to turn a stored model set into a discovered one, as {@link planModelSet} works it out. */
export interface ModelSetPlan {
  /** The diff reported to the caller (every id kept counts as updated). */
  diff: ModelSetDiff;
  /** Models to write in full: the new ones and those whose capabilities changed. */
  rewrite: DiscoveredModel[];
  /** Ids of kept models whose capabilities are unchanged: only their `last_checked` moves. */
  touch: string[];
  /** True when the set or a capability changed (a `models` change is recorded). */
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
  current: ReadonlyMap<string, readonly Capability[]>,
  next: readonly DiscoveredModel[],
): ModelSetPlan {
  // A model listed twice counts once, with its last capabilities.
  const after = new Map(next.map((m) => [m.model_id, m]));
  const added: string[] = [];
  const updated: string[] = [];
  const rewrite: DiscoveredModel[] = [];
  const touch: string[] = [];
  for (const model of after.values()) {
    const before = current.get(model.model_id);
    (before === undefined ? added : updated).push(model.model_id);
    if (before !== undefined && sameCapabilities(before, model.capabilities)) touch.push(model.model_id);
    else rewrite.push(model);
  }
  const removed = [...current.keys()].filter((id) => !after.has(id));
  const diff = { added: added.sort(), removed: removed.sort(), updated: updated.sort() };
  return { diff, rewrite, touch, changed: rewrite.length > 0 || removed.length > 0 };
}

function sameCapabilities(a: readonly Capability[], b: readonly Capability[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}
