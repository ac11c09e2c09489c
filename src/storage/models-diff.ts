/** The model-set diff shared by every storage adapter. */
import type { DiscoveredModel, ModelSetDiff } from '../schema.js';

/**
 * Compares the stored model ids of an endpoint with a freshly discovered set: ids only in
 * `next` are added, ids only in `current` removed, ids in both updated. Each list is sorted.
 */
export function diffModelSets(current: Iterable<string>, next: readonly DiscoveredModel[]): ModelSetDiff {
  const before = new Set(current);
  const after = new Set(next.map((m) => m.model_id));
  const added: string[] = [];
  const updated: string[] = [];
  for (const id of after) (before.has(id) ? updated : added).push(id);
  const removed = [...before].filter((id) => !after.has(id));
  return { added: added.sort(), removed: removed.sort(), updated: updated.sort() };
}
