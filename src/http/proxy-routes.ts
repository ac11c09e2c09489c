/**
 * The forwarded routes — JSON bodies (chat, completions, embeddings, responses, rerank, score,
 * speech, images, the Anthropic Messages API) and multipart uploads (audio transcriptions and
 * translations) — and the model list (models and aliases) answered from the catalog.
 */
import { z } from 'zod';
import { LlmlbError } from '../errors.js';
import type { AliasInfo, ModelInfo } from '../catalog.js';
import { routerInternals } from '../internals.js';
import { NOTHING_TO_RELEASE } from '../keys/index.js';
import type { RequestHints } from '../proxy/forward.js';
import type { InferenceRoute } from '../proxy/options.js';
import { INFERENCE_ROUTES } from '../proxy/inference-routes.js';
import { NO_NEEDS, type RequestNeeds, requestNeeds } from '../proxy/request-needs.js';
import { readJsonBytes } from './body.js';
import { readMultipartBody } from './multipart.js';
import { sendJson } from './respond.js';
import type { RouteContext, RouteHandler } from './route.js';

const modelSchema = z.string().min(1).max(512);

/** Reads the request body, the `model` it names and whether it asks for a stream; the bytes are forwarded untouched. */
async function readInferenceBody(ctx: RouteContext): Promise<{ body: Buffer; model: string; parsed: object; stream: boolean }> {
  const { raw: body, value: parsed } = await readJsonBytes(ctx.req, routerInternals(ctx.router).proxy.bodyLimit, ctx.preParsedBody);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new LlmlbError('invalid_request', 'the request body must be a JSON object');
  }
  const model = validModel((parsed as { model?: unknown }).model, 'the request body must name a "model" (a non-empty string)');
  return { body, model, parsed, stream: (parsed as { stream?: unknown }).stream === true };
}

/** The model a request names, or `invalid_request` with `message`. */
function validModel(value: unknown, message: string): string {
  const model = modelSchema.safeParse(value);
  if (!model.success) throw new LlmlbError('invalid_request', message);
  return model.data;
}

/**
 * Forwards one request within the limits of the caller's key: the key admits it (or refuses it
 * with a 404 or a 429) and its slot is freed when the answer ends.
 */
function forwardWithin(ctx: RouteContext, route: InferenceRoute, body: Buffer, model: string, hints: Pick<RequestHints, 'stream' | 'body'> & { needs?: RequestNeeds }): Promise<void> {
  const { proxy, keys } = routerInternals(ctx.router);
  const principal = ctx.principal;
  // One object shape for every request (a spread would give each route's hints their own).
  const full: RequestHints = { stream: hints.stream, body: hints.body, needs: hints.needs ?? NO_NEEDS, keyName: principal?.name ?? null, keyId: principal?.keyId ?? null };
  let release: () => void;
  try {
    release = keys.admit(principal, model);
  } catch (err) {
    if (!(err instanceof LlmlbError)) throw err;
    proxy.refuse(ctx.res, route, model, full, err);
    return Promise.resolve();
  }
  const forwarded = proxy.forward(ctx.req, ctx.res, route, body, model, full);
  return release === NOTHING_TO_RELEASE ? forwarded : forwarded.finally(release);
}

/** A route whose JSON body names the model. */
const forward = (route: InferenceRoute) => async (ctx: RouteContext) => {
  const { body, model, parsed, stream } = await readInferenceBody(ctx);
  const needs = requestNeeds(INFERENCE_ROUTES[route].shape, parsed as Record<string, unknown>, body.length);
  await forwardWithin(ctx, route, body, model, { stream, body: parsed, needs });
};

/** A route whose `multipart/form-data` body names the model in its `model` field (an upload). */
const forwardMultipart = (route: InferenceRoute) => async (ctx: RouteContext) => {
  const { proxy } = routerInternals(ctx.router);
  const { raw, model } = await readMultipartBody(ctx.req, proxy.bodyLimit, ctx.preParsedBody);
  const name = validModel(model, 'the form must have a "model" field (a non-empty string)');
  await forwardWithin(ctx, route, raw, name, { stream: false, body: null });
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

/** An alias as listed by `GET /v1/models`: a model whose `targets` say what it stands for. */
export interface ListedAlias extends ListedModel {
  /** The model ids the alias stands for, in order of preference. */
  targets: string[];
}

function toListed(model: ModelInfo): ListedModel {
  const { id, created, available, capabilities, context_length, loaded, endpoints } = model;
  return { id, object: 'model', created, owned_by: 'llmlb', available, capabilities, context_length, loaded, endpoints: endpoints.length };
}

function toListedAlias(alias: AliasInfo): ListedAlias {
  const { id, created, available, capabilities, context_length, loaded, targets } = alias;
  const endpoints = new Set(targets.flatMap((t) => t.endpoints.map((e) => e.id))).size;
  const listed = { id, object: 'model', created, owned_by: 'llmlb', available, capabilities, context_length, loaded } as const;
  return { ...listed, endpoints, targets: targets.map((t) => t.id) };
}

/** The `GET /v1/models` entries: aliases, and the models no alias hides, by id. */
function listing(models: readonly ModelInfo[], aliases: readonly AliasInfo[]): ListedModel[] {
  if (aliases.length === 0) return models.map(toListed);
  const hidden = new Set(aliases.map((a) => a.id));
  const entries = [...models.filter((m) => !hidden.has(m.id)).map(toListed), ...aliases.map(toListedAlias)];
  return entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** One response body per catalog version: keyed by the models array, holding the aliases array it was built with. */
const listCache = new WeakMap<readonly ModelInfo[], { aliases: readonly AliasInfo[]; body: unknown }>();

/** Handlers of the `/v1` routes, by operation; the route table says who may call them. */
export const inferenceHandlers = {
  chat: forward('chat'),
  completions: forward('completions'),
  embeddings: forward('embeddings'),
  responses: forward('responses'),
  rerank: forward('rerank'),
  score: forward('score'),
  transcriptions: forwardMultipart('transcriptions'),
  translations: forwardMultipart('translations'),
  speech: forward('speech'),
  images: forward('images'),
  messages: forward('messages'),
  countTokens: forward('count_tokens'),
  listModels: async (ctx) => {
    // The catalog returns the same array until the registry changes: one body per version.
    const [models, aliases] = [ctx.router.models.list(), ctx.router.models.aliases()];
    let cached = listCache.get(models);
    if (cached?.aliases !== aliases) listCache.set(models, (cached = { aliases, body: { object: 'list', data: listing(models, aliases) } }));
    const { keys } = routerInternals(ctx.router);
    const data = (cached.body as { data: ListedModel[] }).data;
    // A key limited to some models (or aliases) sees only those.
    const visible = data.every((m) => keys.allows(ctx.principal, m.id)) ? cached.body : { object: 'list', data: data.filter((m) => keys.allows(ctx.principal, m.id)) };
    sendJson(ctx.res, 200, visible);
  },
  getModel: async (ctx) => {
    const id = ctx.params.model ?? '';
    if (!routerInternals(ctx.router).keys.allows(ctx.principal, id)) {
      throw new LlmlbError('model_not_found', `model ${JSON.stringify(id)} does not exist or this key may not use it`);
    }
    const alias = ctx.router.models.findAlias(id);
    sendJson(ctx.res, 200, alias ? toListedAlias(alias) : toListed(ctx.router.models.get(id)));
  },
} satisfies Record<string, RouteHandler>;
