/**
 * Node tokens: the per-node secret a self-registered node sends as `X-Node-Token` with its
 * heartbeats. Made from 32 random bytes; only their SHA-256 digest is ever stored or kept.
 */
import { hash, randomBytes } from 'node:crypto';

/** Prefix of every node token, so a leaked one is recognisable. */
export const NODE_TOKEN_PREFIX = 'llmlb_node_';

/** The SHA-256 hex digest of a node token: how tokens are stored and looked up. */
export function nodeTokenDigest(token: string): string {
  return hash('sha256', token, 'hex');
}

/**
 * A new node token and its digest.
 *
 * @example
 * const { token, sha256 } = newNodeToken(); // token: 'llmlb_node_…', stored: sha256
 */
export function newNodeToken(): { token: string; sha256: string } {
  const token = `${NODE_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, sha256: nodeTokenDigest(token) };
}
