/**
 * The in-memory view of self-registered nodes: their details by endpoint id, their token digests
 * (so a heartbeat is authenticated without a storage access), and when each last sent a
 * heartbeat to this instance. Written only by the nodes module (`NodeService`, `Heartbeats`).
 */
import type { NodeRecord } from './schema.js';

/** Which of a node's tokens a digest is. */
export interface TokenMatch {
  endpointId: string;
  /** The token its rotation replaced (accepted until the node uses the new one). */
  previous: boolean;
}

/**
 * Nodes by endpoint id and by token digest.
 *
 * @example
 * directory.set(node);
 * directory.byToken(nodeTokenDigest(token)); // { endpointId, previous: false }
 */
export class NodeDirectory {
  readonly #nodes = new Map<string, NodeRecord>();
  readonly #tokens = new Map<string, TokenMatch>();
  readonly #heartbeats = new Map<string, string>();

  /** Replaces every node (at start). */
  load(nodes: readonly NodeRecord[]): void {
    this.#nodes.clear();
    this.#tokens.clear();
    for (const node of nodes) this.set(node);
  }

  /** Adds a node or replaces its record (and its token digests). */
  set(node: NodeRecord): void {
    this.#dropTokens(node.endpoint_id);
    this.#nodes.set(node.endpoint_id, node);
    this.#tokens.set(node.token_sha256, { endpointId: node.endpoint_id, previous: false });
    if (node.previous_token_sha256 !== null) this.#tokens.set(node.previous_token_sha256, { endpointId: node.endpoint_id, previous: true });
  }

  /** Forgets a node (its endpoint was removed). */
  forget(endpointId: string): void {
    this.#dropTokens(endpointId);
    this.#nodes.delete(endpointId);
    this.#heartbeats.delete(endpointId);
  }

  /** The node of an endpoint, or undefined. */
  get(endpointId: string): NodeRecord | undefined {
    return this.#nodes.get(endpointId);
  }

  /** Every node. */
  list(): NodeRecord[] {
    return [...this.#nodes.values()];
  }

  /** The node a token digest belongs to, or undefined. */
  byToken(sha256: string): TokenMatch | undefined {
    return this.#tokens.get(sha256);
  }

  /** Records a heartbeat's time (ISO-8601). */
  heard(endpointId: string, at: string): void {
    if (this.#nodes.has(endpointId)) this.#heartbeats.set(endpointId, at);
  }

  /** When the node last sent this instance a heartbeat, or null. */
  lastHeartbeat(endpointId: string): string | null {
    return this.#heartbeats.get(endpointId) ?? null;
  }

  #dropTokens(endpointId: string): void {
    const node = this.#nodes.get(endpointId);
    if (!node) return;
    this.#tokens.delete(node.token_sha256);
    if (node.previous_token_sha256 !== null) this.#tokens.delete(node.previous_token_sha256);
  }
}
