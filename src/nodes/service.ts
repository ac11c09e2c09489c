/**
 * Self-registered nodes (docs/self-registration.md): registration (`POST /v0/nodes`), the admin's
 * approval or rejection, the admin's view of the nodes, and their heartbeats. A node is an
 * endpoint with `admin_state: pending_approval` plus its details (runtime, GPUs, labels) and a
 * node token kept as a digest; once approved it is an ordinary endpoint.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type Clock, isoAt } from '../clock.js';
import { LlmlbError, endpointNotFound } from '../errors.js';
import type { Probe } from '../health/probe.js';
import type { LoadBoard } from '../load-signals.js';
import type { Logger } from '../logger.js';
import {
  ADMIN_STATES,
  type Endpoint,
  type EndpointPatch,
  type EndpointRecord,
  createEndpointInputSchema,
  endpointIdSchema,
  newEndpointRecord,
  parseOrThrow,
  toPublicEndpoint,
} from '../schema.js';
import type { NodeStorage } from '../storage/nodes.js';
import type { EndpointStore } from '../store.js';
import type { UpstreamPolicy } from '../upstream-policy.js';
import { NodeDirectory } from './directory.js';
import { type HeartbeatAnswer, Heartbeats } from './heartbeat.js';
import { type NodeDetails, type NodePatch, type NodeRecord, registerNodeInputSchema, toNodeDetails } from './schema.js';
import { newNodeToken } from './tokens.js';

/** A node as the admin API lists it: its details and its endpoint's name, URL and states. */
export type NodeView = NodeDetails &
  Pick<Endpoint, 'name' | 'base_url' | 'status' | 'admin_state' | 'last_error'> & {
    /** When it last sent this instance a heartbeat (not kept across restarts), or null. */
    last_heartbeat_at: string | null;
  };

/** The answer to a registration: the endpoint, the node's details and its token (shown once). */
export interface NodeRegistration {
  /** False when an already registered node registered again. */
  created: boolean;
  endpoint: Endpoint;
  node: NodeDetails;
  /** The node token for `X-Node-Token`; only its digest is stored. */
  node_token: string;
}

/** What {@link NodeService} is built from. */
export interface NodeServiceDeps {
  store: EndpointStore;
  storage: NodeStorage;
  clock: Clock;
  logger: Logger;
  /** The health check's probe: a node's server must answer before it is registered. */
  probe: Probe;
  upstreamPolicy: UpstreamPolicy;
  load: LoadBoard;
  /** Throws `not_ready` unless the router is started. */
  assertStarted: () => void;
}

/** What a registration sets of a node (its id and registration time come with its endpoint). */
type NodeFields = Omit<NodeRecord, 'endpoint_id' | 'registered_at'>;

/** Filter of the node list. */
const listNodesFilterSchema = z.strictObject({ admin_state: z.enum(ADMIN_STATES).optional() });

/**
 * Registers nodes, approves and rejects them, lists them and receives their heartbeats.
 *
 * @example
 * const { node_token } = await nodes.register({ name: 'gpu-7', base_url: 'http://10.0.0.7:11434' });
 * await nodes.approve(endpointId);
 */
export class NodeService {
  readonly #deps: NodeServiceDeps;
  readonly #directory = new NodeDirectory();
  readonly #heartbeats: Heartbeats;

  constructor(deps: NodeServiceDeps) {
    this.#deps = deps;
    const { store, storage } = deps;
    this.#heartbeats = new Heartbeats({ directory: this.#directory, storage, registry: store.registry, load: deps.load, clock: deps.clock });
    store.on('endpointRemoved', (endpoint) => this.#directory.forget(endpoint.id));
    store.followRecords('node', async (id) => {
      const node = await storage.getNode(id);
      if (node) this.#directory.set(node);
      else this.#directory.forget(id);
    });
  }

  /** Loads every node from storage (at start, after the endpoint store loaded). */
  async load(): Promise<number> {
    const nodes = await this.#deps.storage.listNodes();
    this.#directory.load(nodes);
    return nodes.length;
  }

  /**
   * Registers a node: validates its details, checks that its server answers (`endpoint_offline`
   * otherwise) and creates its endpoint, pending approval. The same base_url again updates the
   * node (see docs/self-registration.md) and issues a new token; a base_url registered by an
   * admin is a `conflict`.
   */
  async register(input: unknown): Promise<NodeRegistration> {
    this.#deps.assertStarted();
    const data = parseOrThrow(registerNodeInputSchema, input, 'node');
    const refusal = this.#deps.upstreamPolicy(data.base_url);
    if (refusal !== null) {
      throw new LlmlbError('validation_error', `invalid node: base_url: ${refusal}`, { details: [{ path: 'base_url', message: refusal }] });
    }
    this.#existingNode(data.base_url);
    const probe = await this.#deps.probe({ base_url: data.base_url, apiKey: null }, new AbortController().signal);
    if (!probe.ok) throw new LlmlbError('endpoint_offline', `the node's server did not answer GET ${data.base_url}/v1/models: ${probe.message}`);
    const now = isoAt(this.#deps.clock);
    const token = newNodeToken();
    const details: NodeFields = {
      runtime_type: data.runtime.type,
      runtime_version: data.runtime.version,
      gpus: data.gpus,
      labels: data.labels,
      token_sha256: token.sha256,
      previous_token_sha256: null,
      rotate_token: false,
      updated_at: now,
    };
    const existing = this.#existingNode(data.base_url);
    const written = existing ? await this.#update(existing, data.name, details) : await this.#insert(data, details, now);
    this.#deps.logger.info({ endpoint_id: written.endpoint.id, name: written.endpoint.name, created: !existing }, 'node registered');
    return { created: !existing, endpoint: toPublicEndpoint(written.endpoint), node: toNodeDetails(written.node), node_token: token.token };
  }

  /** The node endpoint at `baseUrl`, if any; `conflict` when an admin registered that URL. */
  #existingNode(baseUrl: string): EndpointRecord | undefined {
    const existing = this.#deps.store.registry.listEndpoints().find((e) => e.base_url === baseUrl);
    if (existing && !this.#directory.get(existing.id)) {
      throw new LlmlbError('conflict', `an endpoint with base_url ${baseUrl} already exists and was not registered by a node`, {
        details: [{ path: 'base_url', message: 'already taken' }],
      });
    }
    return existing;
  }

  /** A new node: its endpoint pending approval, with the defaults of any new endpoint. */
  async #insert(data: { name: string; base_url: string }, details: NodeFields, now: string): Promise<{ endpoint: EndpointRecord; node: NodeRecord }> {
    const id = randomUUID();
    const input = createEndpointInputSchema.parse({ name: data.name, base_url: data.base_url, admin_state: 'pending_approval' });
    // The runtime the node names is a hint: the checks detect the type as for any endpoint.
    const endpoint: EndpointRecord = { ...newEndpointRecord(id, input, null, now), type: details.runtime_type, type_source: 'detected' };
    const node: NodeRecord = { ...details, endpoint_id: id, registered_at: now };
    await this.#deps.store.create(endpoint, (record) => this.#deps.storage.insertNode(record, node));
    this.#directory.set(node);
    return { endpoint, node };
  }

  /** A node registering again: new details and token; its name too while it is pending. */
  async #update(existing: EndpointRecord, name: string, details: NodePatch): Promise<{ endpoint: EndpointRecord; node: NodeRecord }> {
    const rename = existing.admin_state === 'pending_approval' && existing.name !== name;
    return this.#writeNode(existing.id, details, rename ? { name, updated_at: details.updated_at } : undefined);
  }

  /** Writes a node (and its endpoint) and applies both. */
  async #writeNode(id: string, patch: NodePatch, endpointPatch?: EndpointPatch): Promise<{ endpoint: EndpointRecord; node: NodeRecord }> {
    let node: NodeRecord | undefined;
    const endpoint = await this.#deps.store.applyWrite(id, async () => {
      const written = await this.#deps.storage.updateNode(id, patch, endpointPatch);
      node = written?.node;
      return written?.endpoint;
    });
    this.#directory.set(node!);
    return { endpoint, node: node! };
  }

  /**
   * Approves an endpoint pending approval: it becomes `enabled` (routed once online). A node's
   * token is rotated on its next heartbeat. `conflict` unless it is pending approval.
   */
  async approve(id: string): Promise<Endpoint> {
    this.#deps.assertStarted();
    const record = this.#pending(id, 'approved');
    const patch: EndpointPatch = { admin_state: 'enabled', updated_at: isoAt(this.#deps.clock) };
    if (!this.#directory.get(record.id)) return toPublicEndpoint(await this.#deps.store.update(record.id, patch));
    const { endpoint } = await this.#writeNode(record.id, { rotate_token: true, updated_at: patch.updated_at }, patch);
    return toPublicEndpoint(endpoint);
  }

  /** Rejects an endpoint pending approval: it is deleted with its node. `conflict` unless it is pending approval. */
  async reject(id: string): Promise<void> {
    this.#deps.assertStarted();
    const record = this.#pending(id, 'rejected');
    if (!(await this.#deps.store.remove(record.id))) throw endpointNotFound(id);
  }

  /** The endpoint of `id` if it is pending approval; `not_found` or `conflict` otherwise. */
  #pending(id: string, what: 'approved' | 'rejected'): EndpointRecord {
    const record = this.#find(id);
    if (record.admin_state !== 'pending_approval') {
      const hint = what === 'rejected' ? '; delete it with DELETE /v0/endpoints/:id' : '';
      throw new LlmlbError('conflict', `endpoint ${record.name} is ${record.admin_state}, not pending approval: only pending endpoints can be ${what}${hint}`);
    }
    return record;
  }

  /** Every node, optionally only those in one admin state, oldest registration first. */
  list(filter: unknown = {}): { nodes: NodeView[]; total: number } {
    this.#deps.assertStarted();
    const { admin_state } = parseOrThrow(listNodesFilterSchema, filter, 'filter');
    const nodes = this.#deps.store.registry
      .listEndpoints()
      .filter((endpoint) => admin_state === undefined || endpoint.admin_state === admin_state)
      .flatMap((endpoint) => {
        const node = this.#directory.get(endpoint.id);
        return node ? [this.#view(endpoint, node)] : [];
      });
    return { nodes, total: nodes.length };
  }

  /** One node; `not_found` when the endpoint is unknown or was not registered by a node. */
  get(id: string): NodeView {
    this.#deps.assertStarted();
    const endpoint = this.#find(id);
    const node = this.#directory.get(endpoint.id);
    if (!node) throw new LlmlbError('not_found', `endpoint ${endpoint.name} was not registered by a node`);
    return this.#view(endpoint, node);
  }

  /** Receives a heartbeat (see {@link Heartbeats.receive}). */
  heartbeat(token: string | string[] | undefined, readBody: () => Promise<unknown>): Promise<HeartbeatAnswer> {
    this.#deps.assertStarted();
    return this.#heartbeats.receive(token, readBody);
  }

  #view(endpoint: EndpointRecord, node: NodeRecord): NodeView {
    const { name, base_url, status, admin_state, last_error } = endpoint;
    return { ...toNodeDetails(node), name, base_url, status, admin_state, last_error, last_heartbeat_at: this.#directory.lastHeartbeat(endpoint.id) };
  }

  #find(id: string): EndpointRecord {
    const record = endpointIdSchema.safeParse(id).success ? this.#deps.store.registry.getEndpoint(id) : undefined;
    if (!record) throw endpointNotFound(typeof id === 'string' ? id.slice(0, 100) : String(id));
    return record;
  }
}
