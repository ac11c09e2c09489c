/**
 * Node heartbeats (`POST /v0/nodes/heartbeat`): authenticated by the node token's digest in
 * memory, their load figures go to the load board (the same board the checks feed). A heartbeat
 * never changes an endpoint's status: the health checks decide it. Heartbeats of a node pending
 * approval are accepted and change nothing. The token rotation an approval asks for happens
 * here: the new token is delivered once, in the answer to the next heartbeat.
 */
import { type Clock, isoAt } from '../clock.js';
import { LlmlbError } from '../errors.js';
import { type LoadBoard, type LoadFigures, NO_FIGURES } from '../load-signals.js';
import type { AdminState, EndpointStatus } from '../schema.js';
import { parseOrThrow } from '../schema.js';
import type { NodeStorage } from '../storage/nodes.js';
import type { RegistryView } from '../registry.js';
import type { NodeDirectory, TokenMatch } from './directory.js';
import { type HeartbeatInput, type NodeRecord, heartbeatInputSchema } from './schema.js';
import { newNodeToken, nodeTokenDigest } from './tokens.js';

/** The answer to a heartbeat. */
export interface HeartbeatAnswer {
  endpoint_id: string;
  admin_state: AdminState;
  /** Health status, as the checks decided it. */
  status: EndpointStatus;
  /** A new node token, present once after an approval: use it from the next heartbeat on. */
  node_token?: string;
}

/** What {@link Heartbeats} works with. */
export interface HeartbeatDeps {
  directory: NodeDirectory;
  storage: NodeStorage;
  registry: RegistryView;
  load: LoadBoard;
  clock: Clock;
}

/** The load figures of a heartbeat. */
function toFigures(input: HeartbeatInput): LoadFigures {
  return {
    ...NO_FIGURES,
    running: input.active_requests ?? null,
    waiting: input.waiting_requests ?? null,
    gpu_utilization: input.gpu_utilization ?? null,
    loaded_models: input.loaded_models ?? null,
  };
}

/** The 401 for any token that is missing, malformed or unknown: it says nothing about nodes. */
function unknownToken(): LlmlbError {
  return new LlmlbError('unauthorized', 'missing or unknown node token (X-Node-Token)');
}

/**
 * Receives heartbeats.
 *
 * @example
 * const answer = await heartbeats.receive(req.headers['x-node-token'], () => readJsonBody(req, limit));
 */
export class Heartbeats {
  readonly #deps: HeartbeatDeps;

  constructor(deps: HeartbeatDeps) {
    this.#deps = deps;
  }

  /**
   * Authenticates `token` (401 when it is not a node's), then reads and validates the body
   * (`readBody`) and applies it. Answers with the node's state and, once after an approval, its
   * new token.
   */
  async receive(token: string | string[] | undefined, readBody: () => Promise<unknown>): Promise<HeartbeatAnswer> {
    const match = this.#authenticate(token);
    const input = parseOrThrow(heartbeatInputSchema, await readBody(), 'heartbeat');
    const { directory, registry, load, clock } = this.#deps;
    const endpoint = registry.getEndpoint(match.endpointId);
    const node = directory.get(match.endpointId);
    // Removed while the body was read: as unknown as any other token.
    if (!endpoint || !node) throw unknownToken();
    directory.heard(endpoint.id, isoAt(clock));
    const answer: HeartbeatAnswer = { endpoint_id: endpoint.id, admin_state: endpoint.admin_state, status: endpoint.status };
    if (endpoint.admin_state === 'pending_approval') return answer;
    // A node that never sent a figure stays off the board (the board's rule, as for checks).
    const figures = toFigures(input);
    load.report(endpoint.id, figures, 'heartbeat', clock.now());
    const rotated = await this.#rotate(node, match.previous);
    return rotated === undefined ? answer : { ...answer, node_token: rotated };
  }

  #authenticate(token: string | string[] | undefined): TokenMatch {
    if (typeof token !== 'string' || token.length === 0 || token.length > 512) throw unknownToken();
    const match = this.#deps.directory.byToken(nodeTokenDigest(token));
    if (!match) throw unknownToken();
    return match;
  }

  /**
   * Rotates the node's token when an approval asked for it, or when the node still uses the
   * token a rotation replaced (it missed the answer that carried the new one); forgets the
   * replaced token once the node uses the new one. Returns the new token, if one was made.
   */
  async #rotate(node: NodeRecord, withPrevious: boolean): Promise<string | undefined> {
    const updated_at = isoAt(this.#deps.clock);
    if (withPrevious || node.rotate_token) {
      const next = newNodeToken();
      const previous = withPrevious ? node.previous_token_sha256 : node.token_sha256;
      await this.#write(node.endpoint_id, { token_sha256: next.sha256, previous_token_sha256: previous, rotate_token: false, updated_at });
      return next.token;
    }
    if (node.previous_token_sha256 !== null) await this.#write(node.endpoint_id, { previous_token_sha256: null, updated_at });
    return undefined;
  }

  async #write(endpointId: string, patch: Parameters<NodeStorage['updateNode']>[1]): Promise<void> {
    const written = await this.#deps.storage.updateNode(endpointId, patch);
    if (!written) throw unknownToken();
    this.#deps.directory.set(written.node);
  }
}
