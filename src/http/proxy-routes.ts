/**
 * The `/v1` OpenAI-compatible routes: the three forwarded inference routes, and the model list
 * answered from the registry.
 */
import { z } from 'zod';
import { LlmlbError } from '../errors.js';
import type { ModelInfo } from '../catalog.js';
import { routerInternals } from '../internals.js';
import type { InferenceRoute } from '../proxy/options.js';
import { type BodyShape, requestNeeds } from '../proxy/request-needs.js';
import { readJsonBytes } from './body.js';
import { sendJson } from './respond.js';
import type { RouteContext, RouteHandler } from './route.js';

const modelSchema = z.string().min(1).max(512);

/** Reads the request body, the `model` it names and whether it asks for a stream; the bytes are forwarded untouched. */
async function readInferenceBody(ctx: RouteContext): Promise<{ body: Buffer; model: string; parsed: object; stream: boolean }> {
  const { raw: body, value: parsed } = await readJsonBytes(ctx.req, routerInternals(ctx.router).proxy.bodyLimit, ctx.preParsedBody);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new LlmlbError('invalid_request', 'the request body must be a JSON object');
  }
  const model = modelSchema.safeParse((parsed as { model?: unknown }).model);
  if (!model.success) throw new LlmlbError('invalid_request', 'the request body must name a "model" (a non-empty string)');
  return { body, model: model.data, parsed, stream: (parsed as { stream?: unknown }).stream === true };
}

/** How each route's body is walked for what its content needs (capabilities, context). */
const BODY_SHAPES: Readonly<Record<InferenceRoute, BodyShape>> = { chat: 'chat', completions: 'completions', embeddings: 'other' };

const forward = (route: InferenceRoute) => async (ctx: RouteContext) => {
  const { body, model, parsed, stream } = await readInferenceBody(ctx);
  const needs = requestNeeds(BODY_SHAPES[route], parsed as Record<string, unknown>, body.length);
  await routerInternals(ctx.router).proxy.forward(ctx.req, ctx.res, route, body, model, { stream, body: parsed, needs, keyName: ctx.principal?.name ?? null });
};

/** A model as listed by `GET /v1/models`: the OpenAI fields plus llmlb's own. */
export interface ListedModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: 'llmlb';
  /** True when at least one online, enabled endpoint serves the model now. */
  available: boolean;
  capabilities: string[];
  /** The largest context window its endpoints report, in tokens (null: none told). */
  context_length: number | null;
  /** True when an endpoint has it in memory now (null: none tells). */
  loaded: boolean | null;
  /** Endpoints serving the model, in any status. */
  endpoints: number;
}

function toListed(model: ModelInfo): ListedModel {
  const { id, created, available, capabilities, context_length, loaded, endpoints } = model;
  return { id, object: 'model', created, owned_by: 'llmlb', available, capabilities, context_length, loaded, endpoints: endpoints.length };
}

const listCache = new WeakMap<readonly ModelInfo[], unknown>();

/** Handlers of the `/v1` routes, by operation; the route table says who may call them. */
export const inferenceHandlers = {
  chat: forward('chat'),
  completions: forward('completions'),
  embeddings: forward('embeddings'),
  listModels: async (ctx) => {
    // The catalog returns the same array until the registry changes: one body per version.
    const models = ctx.router.models.list();
    let body = listCache.get(models);
    if (!body) listCache.set(models, (body = { object: 'list', data: models.map(toListed) }));
    sendJson(ctx.res, 200, body);
  },
  getModel: async (ctx) => sendJson(ctx.res, 200, toListed(ctx.router.models.get(ctx.params.model ?? ''))),
} satisfies Record<string, RouteHandler>;
