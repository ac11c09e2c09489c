/**
 * The part of the storage contract that keeps self-registered nodes' details (`nodes`, one row
 * per node, keyed by its endpoint's id and deleted with it). Every adapter implements it; the
 * contract in `./types.ts` extends it.
 */
import type { NodePatch, NodeRecord } from '../nodes/schema.js';
import type { EndpointPatch, EndpointRecord } from '../schema.js';
import { definedFields } from './patch.js';

/** The stored endpoint and node after a node write. */
export interface NodeWrite {
  endpoint: EndpointRecord;
  node: NodeRecord;
}

/**
 * Nodes' details. Every write appends a `node` change (subject: the endpoint id) to the change
 * feed in the same transaction; a write that also changes the endpoint row raises its version
 * and appends an `endpoint` change too. Deleting the endpoint deletes its node.
 */
export interface NodeStorage {
  /**
   * Inserts a node's endpoint and its details in one write; `conflict` (naming the field) when
   * the endpoint's name or base_url is taken, and then nothing is written.
   */
  insertNode(endpoint: EndpointRecord, node: NodeRecord): Promise<void>;
  /**
   * Applies `patch` to a node and, when given, `endpointPatch` to its endpoint, in one write.
   * Returns both stored records, or `undefined` (writing nothing) when there is no such node;
   * `conflict` when the endpoint's new name is taken.
   */
  updateNode(endpointId: string, patch: NodePatch, endpointPatch?: EndpointPatch): Promise<NodeWrite | undefined>;
  /** One node, or `undefined`. */
  getNode(endpointId: string): Promise<NodeRecord | undefined>;
  /** Every node, by endpoint id. */
  listNodes(): Promise<NodeRecord[]>;
}

/** Every field a {@link NodePatch} may set; the type makes this list exhaustive. */
const NODE_PATCHABLE: Readonly<Record<keyof NodePatch, true>> = Object.freeze({
  runtime_type: true,
  runtime_version: true,
  gpus: true,
  labels: true,
  token_sha256: true,
  previous_token_sha256: true,
  rotate_token: true,
  updated_at: true,
});
const NODE_PATCH_KEYS = Object.keys(NODE_PATCHABLE) as (keyof NodePatch)[];

/**
 * The fields a node patch really sets (known fields whose value is not `undefined`), copied so
 * that the caller's arrays and objects are never stored.
 */
export function nodePatchFields(patch: NodePatch): NodePatch {
  const copy = definedFields(patch, NODE_PATCH_KEYS);
  if (copy.gpus) copy.gpus = copy.gpus.map((gpu) => ({ ...gpu }));
  if (copy.labels) copy.labels = { ...copy.labels };
  return copy;
}

/** A deep copy of a node record. */
export function copyNode(node: NodeRecord): NodeRecord {
  return { ...node, gpus: node.gpus.map((gpu) => ({ ...gpu })), labels: { ...node.labels } };
}
