/** The proxy's options, the routes it forwards, and the `request` event it reports. */
import { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import type { AffinityOptions } from './affinity.js';
import type { TokenUsage } from './usage.js';

/**
 * The inference routes llmlb forwards (the `route` of the `request` event): `chat`
 * (`/v1/chat/completions`), `completions`, `embeddings`, `responses`, `rerank` (`/v1/rerank` and
 * `/rerank`), `score`, `transcriptions`, `translations`, `speech` (the three `/v1/audio/*`),
 * `images` (`/v1/images/generations`), `messages` and `count_tokens` (the Anthropic Messages API).
 */
export type InferenceRoute =
  | 'chat'
  | 'completions'
  | 'embeddings'
  | 'responses'
  | 'rerank'
  | 'score'
  | 'transcriptions'
  | 'translations'
  | 'speech'
  | 'images'
  | 'messages'
  | 'count_tokens';

/** Options of the proxy (the `proxy` option of `createRouter`). */
export interface ProxyOptions {
  /** Largest accepted request body in bytes. Default 16 MiB. */
  bodyLimit?: number;
  /** Extra attempts on other endpoints when one fails before answering. Default 2. */
  retries?: number;
  /** How long an endpoint that just failed is avoided (unless nothing else is left), in ms. Default 10 000. */
  suspendMs?: number;
  /** Most requests waiting for a free slot when every candidate is at its cap; more get `429`. Default 1000. */
  queueLength?: number;
  /** Longest wait for a free slot, in ms; then `503`. Default 30 000. */
  queueTimeoutMs?: number;
  /** Session affinity: `true` (the `x-session-id` header) or where to read the session key. Default off. */
  affinity?: boolean | AffinityOptions;
}

/** Validates {@link ProxyOptions}. */
export const proxyOptionsSchema = z.strictObject({
  bodyLimit: z.number().int().min(1024).max(1024 * 1024 * 1024).optional(),
  retries: z.number().int().min(0).max(10).optional(),
  suspendMs: z.number().int().min(0).max(3_600_000).optional(),
  queueLength: z.number().int().min(0).max(1_000_000).optional(),
  queueTimeoutMs: z.number().int().min(1).max(3_600_000).optional(),
  affinity: z
    .union([
      z.boolean(),
      z.strictObject({
        header: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name').optional(),
        bodyField: z.string().min(1).max(64).optional(),
        ttlMs: z.number().int().min(1000).max(86_400_000).optional(),
        maxSessions: z.number().int().min(1).max(10_000_000).optional(),
      }),
    ])
    .optional(),
});

/** Payload of the router's `request` event: one proxied request, finished. */
export interface RequestEvent {
  route: InferenceRoute;
  model: string | null;
  /** The endpoint that answered (or the last one tried), null if none was chosen. */
  endpoint_id: string | null;
  endpoint_name: string | null;
  /** HTTP status sent to the client (0 when the client went away first). */
  status: number;
  /** Endpoints tried. */
  attempts: number;
  /** Why the last endpoint was chosen (`least-expected-latency`, `affinity`, `failover`, …); null if none was. */
  route_reason: string | null;
  /** Time spent waiting in llmlb's admission queue for a free slot, in ms to 0.01 ms. */
  queue_ms: number;
  /** Time to the upstream's response headers, in ms to 0.01 ms (null if none arrived). */
  ttfb_ms: number | null;
  /** Time until the response ended, in ms to 0.01 ms. */
  duration_ms: number;
  /** True when the answer was an event stream. */
  streamed: boolean;
  /** llmlb error code when llmlb answered with an error, or when the stream broke. */
  error: ErrorCode | null;
  /** Token counts from the upstream's `usage` (JSON body or final stream event), when it sent them. */
  usage: TokenUsage | null;
  /** Name of the client key that made the request (never the key), when the caller has one. */
  key_name: string | null;
  /** Id of the client key that made the request (never the key), when the caller has one. */
  key_id: string | null;
}
