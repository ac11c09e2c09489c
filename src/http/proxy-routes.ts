/**
 * The `/v1` OpenAI-compatible routes: the three forwarded inference routes, and the model list
 * answered from the registry.
 */
import { z } from 'zod';
import { LlmlbError } from '../errors.js';
import type { InferenceRoute } from '../proxy/forward.js';
import type { Registry } from '../registry.js';
import type { RouteContext, RouteTable } from './admin-routes.js';
import { readJsonBytes } from './body.js';
import { sendJson } from './respond.js';

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

/** The `/v1` routes. A trailing `*name` segment captures the rest of the path (model ids contain `/`). */
export const proxyRoutes: RouteTable = [
  { pattern: ['v1', 'chat', 'completions'], methods: { POST: forward('chat') } },
  { pattern: ['v1', 'completions'], methods: { POST: forward('completions') } },
  { pattern: ['v1', 'embeddings'], methods: { POST: forward('embeddings') } },
  {
    pattern: ['v1', 'models'],
    methods: {
      GET: async (ctx) => {
        const registry = ctx.router.registry;
        let cached = listCache.get(registry);
        if (!cached || cached.version !== registry.version) {
          cached = { version: registry.version, body: { object: 'list', data: registry.modelIds().map((id) => describeModel(registry, id)) } };
          listCache.set(registry, cached);
        }
        sendJson(ctx.res, 200, cached.body);
      },
    },
  },
  {
    pattern: ['v1', 'models', '*model'],
    methods: {
      GET: async (ctx) => {
        const id = ctx.params.model ?? '';
        if (!ctx.router.registry.hasModel(id)) {
          throw new LlmlbError('model_not_found', `model ${JSON.stringify(id)} is not served by any endpoint`);
        }
        sendJson(ctx.res, 200, describeModel(ctx.router.registry, id));
      },
    },
  },
];
