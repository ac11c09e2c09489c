/** The memory adapter's node details: one record per endpoint id, copied in and out. */
import type { NodePatch, NodeRecord } from '../../nodes/schema.js';
import { copyNode, nodePatchFields } from '../nodes.js';

/**
 * Nodes by endpoint id. Written by the memory adapter only, which records the feed entries and
 * keeps the endpoints beside them.
 *
 * @example
 * const nodes = new MemoryNodes();
 * nodes.put(record);
 */
export class MemoryNodes {
  readonly #nodes = new Map<string, NodeRecord>();

  /** Whether the endpoint has a node record. */
  has(endpointId: string): boolean {
    return this.#nodes.has(endpointId);
  }

  /** A copy of one node, or undefined. */
  get(endpointId: string): NodeRecord | undefined {
    const node = this.#nodes.get(endpointId);
    return node && copyNode(node);
  }

  /** Copies of every node, by endpoint id. */
  list(): NodeRecord[] {
    return [...this.#nodes.values()].sort((a, b) => (a.endpoint_id < b.endpoint_id ? -1 : a.endpoint_id > b.endpoint_id ? 1 : 0)).map(copyNode);
  }

  /** Stores a copy of `node`. */
  put(node: NodeRecord): void {
    this.#nodes.set(node.endpoint_id, copyNode(node));
  }

  /** Applies a patch to a node known to exist; returns a copy of the result. */
  patch(endpointId: string, patch: NodePatch): NodeRecord {
    const next = { ...this.#nodes.get(endpointId)!, ...nodePatchFields(patch) };
    this.#nodes.set(endpointId, next);
    return copyNode(next);
  }

  /** Forgets a node (its endpoint was deleted). */
  delete(endpointId: string): void {
    this.#nodes.delete(endpointId);
  }
}
