/**
 * Self-registered nodes (docs/self-registration.md): what a node tells about itself when it
 * registers, what its heartbeats carry, and the node record stored beside its endpoint. Domain
 * level, like `../schema.ts`: storage and the nodes module both build on it.
 */
import { z } from 'zod';
import { ENDPOINT_TYPES, type EndpointType, createEndpointInputSchema } from '../schema.js';

/** Inference server software a node may say it runs: the endpoint types. */
export const RUNTIME_TYPES = ENDPOINT_TYPES;
/** The inference server software of a node. */
export type RuntimeType = EndpointType;

/** One GPU of a node. */
export interface NodeGpu {
  /** The device's model name, e.g. `NVIDIA A100-SXM4-80GB`. */
  model: string;
  /** Its memory in MiB. */
  memory_mb: number;
}

/**
 * A node's details as stored (table `nodes`, keyed by its endpoint's id). The node token is kept
 * only as a SHA-256 digest.
 */
export interface NodeRecord {
  endpoint_id: string;
  runtime_type: RuntimeType;
  runtime_version: string | null;
  gpus: NodeGpu[];
  labels: Record<string, string>;
  /** Digest of the node token its heartbeats carry (`X-Node-Token`). */
  token_sha256: string;
  /**
   * Digest of the token the current one replaced by rotation, accepted until the node first uses
   * the new one (so a lost heartbeat answer cannot lock a node out); null otherwise.
   */
  previous_token_sha256: string | null;
  /** The token is rotated on the node's next heartbeat (set when an admin approves the node). */
  rotate_token: boolean;
  registered_at: string;
  updated_at: string;
}

/** Fields of a {@link NodeRecord} that may change after registration. */
export type NodePatch = Partial<Omit<NodeRecord, 'endpoint_id' | 'registered_at'>>;

/** A node as the admin API shows it: its details, never a token or a digest. */
export type NodeDetails = Omit<NodeRecord, 'token_sha256' | 'previous_token_sha256' | 'rotate_token'>;

/** Strips the token digests and the rotation flag from a stored node. */
export function toNodeDetails(record: NodeRecord): NodeDetails {
  const { token_sha256: _t, previous_token_sha256: _p, rotate_token: _r, ...details } = record;
  return { ...details, gpus: record.gpus.map((gpu) => ({ ...gpu })), labels: { ...record.labels } };
}

const shortText = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(/^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$/, 'must not contain control characters');

const gpuSchema = z.strictObject({
  model: shortText(200),
  memory_mb: z.number().int('must be an integer').min(0).max(16 * 1024 * 1024),
});

/** Label keys: 1–63 characters of letters, digits and `_ . / -`. */
const labelsSchema = z
  .record(z.string().regex(/^[A-Za-z0-9_./-]{1,63}$/, 'label keys are 1–63 letters, digits, _ . / -'), shortText(256))
  .refine((labels) => Object.keys(labels).length <= 32, 'at most 32 labels');

/** Body of `POST /v0/nodes`: what a node tells about itself. Unknown fields are rejected. */
export const registerNodeInputSchema = z.strictObject({
  name: createEndpointInputSchema.shape.name,
  base_url: createEndpointInputSchema.shape.base_url,
  runtime: z
    .strictObject({ type: z.enum(RUNTIME_TYPES), version: shortText(100).nullable().default(null) })
    .default({ type: 'openai-compatible', version: null }),
  gpus: z.array(gpuSchema).max(64, 'at most 64 GPUs').default([]),
  labels: labelsSchema.default({}),
});
/** Input of a node registration (before defaults are applied). */
export type RegisterNodeInput = z.input<typeof registerNodeInputSchema>;

/** Body of `POST /v0/nodes/heartbeat`: load figures, each optional. Unknown fields are rejected. */
export const heartbeatInputSchema = z.strictObject({
  /** Requests the server is running now. */
  active_requests: z.number().int('must be an integer').min(0).max(1_000_000).optional(),
  /** Requests waiting in the server's own queue. */
  waiting_requests: z.number().int('must be an integer').min(0).max(1_000_000).optional(),
  /** Mean GPU utilisation, from 0 to 1. */
  gpu_utilization: z.number().min(0).max(1).optional(),
  /** Model ids loaded in memory now. */
  loaded_models: z.array(shortText(512)).max(1000).optional(),
});
/** A heartbeat's load figures. */
export type HeartbeatInput = z.input<typeof heartbeatInputSchema>;
