/**
 * The `/v1` OpenAI-compatible routes: the three forwarded inference routes, and the model list
 * answered from the registry.
 */
import { z } from 'zod';
import { LlmlbError } from '../errors.js';
import type { ModelInfo } from '../catalog.js';
import { routerInternals } from '../internals.js';
import type { InferenceRoute } from '../proxy/options.js';
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

/** Forwards one request, within the limits of the caller's key (a refusal is a 404 or a 429). */
const forward = (route: InferenceRoute) => async (ctx: RouteContext) => {
  const { body, model, parsed, stream } = await readInferenceBody(ctx);
  const { proxy, keys } = routerInternals(ctx.router);
  const principal = ctx.principal;
  const release = keys.admit(principal, model);
  try {
    const hints = { stream, body: parsed, keyName: principal?.name ?? null, keyId: principal?.keyId ?? null };
    await proxy.forward(ctx.req, ctx.res, route, body, model, hints);
  } finally {
    release();
  }
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
  /** Endpoints serving the model, in any status. */
  endpoints: number;
}

function toListed(model: ModelInfo): ListedModel {
  const { id, created, available, capabilities, endpoints } = model;
  return { id, object: 'model', created, owned_by: 'llmlb', available, capabilities, endpoints: endpoints.length };
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
    const { keys } = routerInternals(ctx.router);
    // A key limited to some models sees only those.
    if (!models.every((m) => keys.allows(ctx.principal, m.id))) {
      body = { object: 'list', data: models.filter((m) => keys.allows(ctx.principal, m.id)).map(toListed) };
    }
    sendJson(ctx.res, 200, body);
  },
  getModel: async (ctx) => {
    const id = ctx.params.model ?? '';
    if (!routerInternals(ctx.router).keys.allows(ctx.principal, id)) {
      throw new LlmlbError('model_not_found', `model ${JSON.stringify(id)} does not exist or this key may not use it`);
    }
    sendJson(ctx.res, 200, toListed(ctx.router.models.get(id)));
  },
} satisfies Record<string, RouteHandler>;
