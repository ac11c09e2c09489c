/**
 * The `/v1` OpenAI-compatible routes: the three forwarded inference routes, and the model list
 * answered from the registry.
 */
import { z } from 'zod';
import { LlmlbError } from '../errors.js';
import type { InferenceRoute } from '../proxy/proxy.js';
import type { Registry } from '../registry.js';
import { readJsonBytes } from './body.js';
import { sendJson } from './respond.js';
import type { RouteContext, RouteHandler } from './route.js';

const modelSchema = z.string().min(1).max(512);

/** Reads the request body and the `model` it names; the bytes are forwarded untouched. */
async function readInferenceBody(ctx: RouteContext): Promise<{ body: Buffer; model: string }> {
  const { raw: body, value: parsed } = await readJsonBytes(ctx.req, ctx.router.proxy.bodyLimit, ctx.preParsedBody);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new LlmlbError('invalid_request', 'the request body must be a JSON object');
  }
  const model = modelSchema.safeParse((parsed as { model?: unknown }).model);
  if (!model.success) throw new LlmlbError('invalid_request', 'the request body must name a "model" (a non-empty string)');
  return { body, model: model.data };
}

const forward = (route: InferenceRoute) => async (ctx: RouteContext) => {
  const { body, model } = await readInferenceBody(ctx);
  await ctx.router.proxy.forward(ctx.req, ctx.res, route, body, model);
};

/** A model as listed by `GET /v1/models`. */
export interface ListedModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: 'llmlb';
  /** True when at least one online endpoint serves the model now. */
  available: boolean;
  capabilities: string[];
  /** Endpoints serving the model, in any status. */
  endpoints: number;
}

function describeModel(registry: Registry, id: string): ListedModel {
  const holders = registry.endpointsFor(id);
  const capabilities = new Set<string>();
  let created = Infinity;
  for (const endpoint of holders) {
    for (const c of registry.modelOf(endpoint.id, id)?.capabilities ?? []) capabilities.add(c);
    created = Math.min(created, Date.parse(endpoint.registered_at));
  }
  return {
    id,
    object: 'model',
    created: Number.isFinite(created) ? Math.floor(created / 1000) : 0,
    owned_by: 'llmlb',
    available: holders.some((e) => e.status === 'online'),
    capabilities: [...capabilities].sort(),
    endpoints: holders.length,
  };
}

const listCache = new WeakMap<Registry, { version: number; body: unknown }>();

/** Handlers of the `/v1` routes, by operation; the route table says who may call them. */
export const inferenceHandlers = {
  chat: forward('chat'),
  completions: forward('completions'),
  embeddings: forward('embeddings'),
  listModels: async (ctx) => {
    const registry = ctx.router.registry;
    let cached = listCache.get(registry);
    if (!cached || cached.version !== registry.version) {
      cached = { version: registry.version, body: { object: 'list', data: registry.modelIds().map((id) => describeModel(registry, id)) } };
      listCache.set(registry, cached);
    }
    sendJson(ctx.res, 200, cached.body);
  },
  getModel: async (ctx) => {
    const id = ctx.params.model ?? '';
    if (!ctx.router.registry.hasModel(id)) {
      throw new LlmlbError('model_not_found', `model ${JSON.stringify(id)} is not served by any endpoint`);
    }
    sendJson(ctx.res, 200, describeModel(ctx.router.registry, id));
  },
} satisfies Record<string, RouteHandler>;
