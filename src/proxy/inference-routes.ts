/**
 * The forwarded routes, one row each: the upstream path a request goes to, the capability its
 * model needs, how its body tells what else the content needs, the error shape llmlb answers in,
 * the upstream statuses that mean "try another endpoint" besides 502/503, and how its body is
 * readdressed to an alias's target.
 */
import type { ServerResponse } from 'node:http';
import type { LlmlbError } from '../errors.js';
import type { Capability } from '../schema.js';
import { anthropicErrorEvent, sendAnthropicError } from './anthropic-error.js';
import { openAiErrorEvent, sendOpenAiError } from './openai-error.js';
import type { InferenceRoute } from './options.js';
import type { BodyShape } from './request-needs.js';
import { rewriteFormModel } from './rewrite-form-model.js';
import { rewriteModel } from './rewrite-model.js';

/** Which error shape a forwarded route speaks. */
export type ProxyErrorStyle = 'openai' | 'anthropic';

/** Writes llmlb's own errors in one shape: as a JSON response, and as the event ending a broken stream. */
export interface ErrorWriter {
  send(res: ServerResponse, error: LlmlbError, headers?: Record<string, string>): void;
  streamEvent(error: LlmlbError): string;
}

/** The writer of each error shape. */
export const ERROR_WRITERS: Readonly<Record<ProxyErrorStyle, ErrorWriter>> = Object.freeze({
  openai: { send: sendOpenAiError, streamEvent: openAiErrorEvent },
  anthropic: { send: sendAnthropicError, streamEvent: anthropicErrorEvent },
});

/** How one route is forwarded. */
export interface InferenceRouteSpec {
  /** The upstream path (after the endpoint's base path). */
  path: string;
  /** What the model must offer. */
  capability: Capability;
  /** How its JSON body is read for what the content needs of the model (`request-needs.ts`). */
  shape: BodyShape;
  /** How llmlb's own errors are written. */
  errors: ErrorWriter;
  /**
   * Upstream statuses, besides 502/503, after which another endpoint is tried (while one is
   * left) without counting a failure against the endpoint: a 404 from a backend that does not
   * speak the route.
   */
  failoverStatuses: ReadonlySet<number>;
  /** The body with its `model` naming `model` instead (for a request addressed to an alias). */
  readdress: (body: Buffer, model: string, contentType: string | undefined) => Buffer;
}

/** How a route's body is encoded: JSON, or `multipart/form-data` (uploads). */
type BodyKind = 'json' | 'form';

const READDRESS: Readonly<Record<BodyKind, InferenceRouteSpec['readdress']>> = Object.freeze({
  json: (body, model) => rewriteModel(body, model),
  form: (body, model, contentType) => rewriteFormModel(body, contentType, model),
});

const NONE: ReadonlySet<number> = new Set();
/** A backend that does not serve the path answers 404. */
const NOT_SPOKEN: ReadonlySet<number> = new Set([404]);

const route = (path: string, capability: Capability, shape: BodyShape = 'other', errors: ProxyErrorStyle = 'openai', failoverStatuses = NONE, body: BodyKind = 'json'): InferenceRouteSpec =>
  Object.freeze({ path, capability, shape, errors: ERROR_WRITERS[errors], failoverStatuses, readdress: READDRESS[body] });

/** Every forwarded route. */
export const INFERENCE_ROUTES: Readonly<Record<InferenceRoute, InferenceRouteSpec>> = Object.freeze({
  chat: route('/v1/chat/completions', 'chat', 'chat'),
  completions: route('/v1/completions', 'chat', 'completions'),
  embeddings: route('/v1/embeddings', 'embeddings'),
  responses: route('/v1/responses', 'chat', 'responses'),
  rerank: route('/v1/rerank', 'rerank'),
  score: route('/v1/score', 'rerank'),
  transcriptions: route('/v1/audio/transcriptions', 'audio', 'other', 'openai', NONE, 'form'),
  translations: route('/v1/audio/translations', 'audio', 'other', 'openai', NONE, 'form'),
  speech: route('/v1/audio/speech', 'audio'),
  images: route('/v1/images/generations', 'image'),
  messages: route('/v1/messages', 'messages', 'messages', 'anthropic', NOT_SPOKEN),
  // Counting tokens generates nothing: any window may count a prompt.
  count_tokens: route('/v1/messages/count_tokens', 'messages', 'other', 'anthropic', NOT_SPOKEN),
});
