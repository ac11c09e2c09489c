/**
 * The domain model (SPEC §2): zod schemas for everything that crosses a boundary, and the
 * TypeScript types inferred from them.
 */
import { z } from 'zod';
import { LlmlbError, type ValidationIssue } from './errors.js';
import { type StaticModel, type StaticModelInput, staticModelsSchema } from './static-models.js';

/**
 * Every endpoint health status, in lifecycle order: `pending` until its first check, then
 * `online`/`offline`/`error`. The one definition: validation, the SQL CHECK constraints and the
 * docs derive from it.
 */
export const ENDPOINT_STATUSES = ['pending', 'online', 'offline', 'error'] as const;
/** Health status of an endpoint. */
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];
const endpointStatusSchema = z.enum(ENDPOINT_STATUSES);

/**
 * Every admin state, set by an admin and independent of health: `enabled` (routed when online),
 * `disabled` (no new requests; in-flight ones finish; still checked) and `pending_approval`
 * (never routed, still checked; for self-registered nodes).
 */
export const ADMIN_STATES = ['enabled', 'disabled', 'pending_approval'] as const;
/** Admin state of an endpoint. */
export type AdminState = (typeof ADMIN_STATES)[number];
const adminStateSchema = z.enum(ADMIN_STATES);

/**
 * Every kind of inference server llmlb knows (docs/backends.md): what is read from it besides
 * `GET /v1/models` depends on it. `openai-compatible` is the default and reads nothing more.
 */
export const ENDPOINT_TYPES = ['ollama', 'vllm', 'llama.cpp', 'lm-studio', 'sglang', 'openai-compatible'] as const;
/** Kind of inference server behind an endpoint. */
export type EndpointType = (typeof ENDPOINT_TYPES)[number];
const endpointTypeSchema = z.enum(ENDPOINT_TYPES);

/**
 * Who set an endpoint's type: `detected` by the health checks (re-detected when the endpoint
 * comes back online), or `admin` (kept as set, never re-detected).
 */
export const TYPE_SOURCES = ['detected', 'admin'] as const;
/** Who set an endpoint's type. */
export type TypeSource = (typeof TYPE_SOURCES)[number];

// C0 and C1 control characters, DEL, and the Unicode line/paragraph separators.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Endpoint name (and API key name): trimmed, 1–100 characters, no control characters. */
export const endpointNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty or whitespace only')
  .max(100, 'must be at most 100 characters')
  .refine((name) => !CONTROL_CHARS.test(name), 'must not contain control characters');

/**
 * Normalises an upstream base URL: http(s) only, no credentials, query or fragment, no trailing
 * slash, and a trailing `/v1` segment dropped (llmlb appends `/v1/...` itself). A URL that ends
 * in an API path (`/v1/chat/completions`, `/api/tags`, …) is rejected with the base URL to give
 * instead. Returns the normalised URL or a message saying what is wrong.
 */
export function normalizeBaseUrl(input: string): { ok: true; url: string } | { ok: false; message: string } {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return { ok: false, message: 'must be a valid absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, message: 'must use http or https' };
  }
  if (url.hostname === '') return { ok: false, message: 'must have a host' };
  if (url.username !== '' || url.password !== '') {
    return { ok: false, message: 'must not contain credentials; use api_key instead' };
  }
  if (url.search !== '' || input.includes('?')) return { ok: false, message: 'must not contain a query string' };
  if (url.hash !== '' || input.includes('#')) return { ok: false, message: 'must not contain a fragment' };
  const origin = `${url.protocol}//${url.host}`;
  const path = url.pathname.replace(/\/+$/, '');
  // An API route (OpenAI-style, with or without /v1, or Ollama's own) where the base should end.
  const api =
    /\/(?:v1\/(?:chat\/completions|completions|embeddings|models|responses)|chat\/completions|api\/(?:tags|chat|generate|embed|embeddings|version|ps|show))$/.exec(
      path,
    );
  if (api) {
    const base = path.slice(0, api.index).replace(/\/v1$/, '');
    return { ok: false, message: `must be the server's base URL, not an API path: use ${origin}${base}` };
  }
  return { ok: true, url: `${origin}${path.replace(/\/v1$/, '')}` };
}

/** Upstream base URL, validated and normalised by {@link normalizeBaseUrl}. */
const baseUrlSchema = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .transform((value, ctx) => {
    const result = normalizeBaseUrl(value);
    if (result.ok) return result.url;
    ctx.addIssue({ code: 'custom', message: result.message });
    return z.NEVER;
  });

/** Upstream credential: 1–4096 visible ASCII characters (it travels in an HTTP header). */
const apiKeySchema = z
  .string()
  .min(1, 'must not be empty')
  .max(4096, 'must be at most 4096 characters')
  .regex(/^[\x21-\x7e]+$/, 'must contain only visible ASCII characters (no spaces or control characters)');

/** Seconds between scheduled health checks: 10–300. */
const healthCheckIntervalSchema = z.number().int('must be an integer').min(10).max(300);
/** Seconds an inference request may wait for the upstream's first byte: 10–600. */
const inferenceTimeoutSchema = z.number().int('must be an integer').min(10).max(600);
/** Most requests llmlb sends an endpoint at once: 1–100 000, or null for no cap. */
const maxConcurrencySchema = z.number().int('must be an integer').min(1).max(100_000).nullable();
/** Routing tier: lower first; the next tier only when the lower ones are saturated or down. 0–100. */
const prioritySchema = z.number().int('must be an integer').min(0).max(100);
/** Relative capacity inside a tier, for unequal GPUs whose caps are unknown: 0.01–1000. */
const weightSchema = z.number().min(0.01).max(1000);

/** Free-text notes, at most 2000 characters. */
const notesSchema = z.string().max(2000, 'must be at most 2000 characters');

/** Default `health_check_interval_secs`. */
const DEFAULT_HEALTH_CHECK_INTERVAL_SECS = 30;
/** Default `inference_timeout_secs`. */
const DEFAULT_INFERENCE_TIMEOUT_SECS = 120;

/** Body of "register an endpoint". Unknown fields are rejected. */
export const createEndpointInputSchema = z.strictObject({
  name: endpointNameSchema,
  base_url: baseUrlSchema,
  api_key: apiKeySchema.optional(),
  health_check_interval_secs: healthCheckIntervalSchema.default(DEFAULT_HEALTH_CHECK_INTERVAL_SECS),
  inference_timeout_secs: inferenceTimeoutSchema.default(DEFAULT_INFERENCE_TIMEOUT_SECS),
  notes: notesSchema.optional(),
  admin_state: adminStateSchema.default('enabled'),
  max_concurrency: maxConcurrencySchema.default(null),
  priority: prioritySchema.default(0),
  weight: weightSchema.default(1),
  models: staticModelsSchema.default(null),
  /** Set by an admin: kept and never re-detected. Absent: detected by the checks. */
  type: endpointTypeSchema.optional(),
});
/** Input of `router.endpoints.create` (before defaults are applied). */
export type CreateEndpointInput = Omit<z.input<typeof createEndpointInputSchema>, 'models'> & {
  /** A static model list, for a server that cannot list its models; omitted or null: discovered. */
  models?: StaticModelInput[] | null;
};

/**
 * Body of "update an endpoint". Every field is optional; `api_key: null` removes the credential,
 * `notes: null` clears the notes. `base_url` can never change.
 */
export const updateEndpointInputSchema = z.strictObject({
  name: endpointNameSchema.optional(),
  base_url: z
    .never({ error: 'cannot be changed; delete the endpoint and register it again' })
    .optional(),
  api_key: apiKeySchema.nullable().optional(),
  health_check_interval_secs: healthCheckIntervalSchema.optional(),
  inference_timeout_secs: inferenceTimeoutSchema.optional(),
  notes: notesSchema.nullable().optional(),
  admin_state: adminStateSchema.optional(),
  max_concurrency: maxConcurrencySchema.optional(),
  priority: prioritySchema.optional(),
  weight: weightSchema.optional(),
  models: staticModelsSchema.optional(),
  /** A type sets it for good (`type_source: admin`); null hands it back to detection. */
  type: endpointTypeSchema.nullable().optional(),
});
/** Input of `router.endpoints.update`. */
export type UpdateEndpointInput = Omit<z.input<typeof updateEndpointInputSchema>, 'base_url' | 'models'> & {
  /** A new static model list; null goes back to discovering the models. */
  models?: StaticModelInput[] | null;
};

/** Filter of "list endpoints". */
export const listEndpointsFilterSchema = z.strictObject({
  status: endpointStatusSchema.optional(),
  admin_state: adminStateSchema.optional(),
});
/** Filter of `router.endpoints.list`. */
export type ListEndpointsFilter = z.input<typeof listEndpointsFilterSchema>;

/** Query of "list an endpoint's health checks": a page size and where the previous page ended. */
export const healthCheckPageSchema = z.strictObject({
  limit: z.coerce.number().int('must be an integer').min(1).max(1000).default(100),
  before: z.iso.datetime({ message: 'must be an ISO-8601 UTC time such as 2025-01-01T00:00:00.000Z' }).optional(),
});
/** Query of `router.endpoints.healthChecks` (over HTTP, `limit` may be a numeric string). */
export interface HealthCheckPageInput {
  /** Rows per page, 1–1000. Default 100. */
  limit?: number | string;
  /** Only rows checked strictly before this time: the previous page's `next_before`. */
  before?: string;
}

/** Endpoint ids are UUIDs (any version, as generated by `crypto.randomUUID`). */
export const endpointIdSchema = z.string().regex(
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  'must be a UUID',
);

/**
 * An endpoint as stored: the public fields plus the encrypted credential. Never returned by the
 * API as is; see {@link toPublicEndpoint}.
 */
export interface EndpointRecord {
  id: string;
  name: string;
  base_url: string;
  /** `v1:…` sealed form of the upstream api key, or null. */
  api_key_encrypted: string | null;
  status: EndpointStatus;
  admin_state: AdminState;
  /** Most requests llmlb sends it at once; null: no cap. */
  max_concurrency: number | null;
  /** Routing tier, lower first. */
  priority: number;
  /** Relative capacity inside its tier. */
  weight: number;
  /** Kind of server behind it (`openai-compatible` until detected otherwise). */
  type: EndpointType;
  /** Who set `type`: an admin's type is never re-detected. */
  type_source: TypeSource;
  health_check_interval_secs: number;
  inference_timeout_secs: number;
  latency_ms: number | null;
  last_seen: string | null;
  last_error: string | null;
  error_count: number;
  registered_at: string;
  updated_at: string;
  notes: string | null;
  /** The model set an admin gave for a server that cannot list its models; null: discovered by checks. */
  static_models: StaticModel[] | null;
  /**
   * Starts at 1 and grows by one with every write of the row (admin change or check), so a
   * reader holding two copies keeps the newer one. Internal: not part of {@link Endpoint}.
   */
  version: number;
}

/** An endpoint as the API returns it: no credential, only whether one is set. */
export type Endpoint = Omit<EndpointRecord, 'api_key_encrypted' | 'version'> & {
  /** True when an upstream api key is stored for this endpoint. */
  has_api_key: boolean;
};

/** Fields of an {@link EndpointRecord} that may change after creation. */
export type EndpointPatch = Partial<Omit<EndpointRecord, 'id' | 'base_url' | 'registered_at' | 'version'>>;

/** Strips the credential and the internal version from a stored endpoint. */
export function toPublicEndpoint(record: EndpointRecord): Endpoint {
  const { api_key_encrypted, version: _version, ...rest } = record;
  return { ...rest, has_api_key: api_key_encrypted !== null };
}

/**
 * The stored record of a newly registered endpoint: the parsed create input `data`, its sealed
 * credential, never checked yet (`pending`), registered `now`, version 1.
 */
export function newEndpointRecord(
  id: string,
  data: z.output<typeof createEndpointInputSchema>,
  apiKeyEncrypted: string | null,
  now: string,
): EndpointRecord {
  return {
    id,
    name: data.name,
    base_url: data.base_url,
    api_key_encrypted: apiKeyEncrypted,
    status: 'pending',
    admin_state: data.admin_state,
    max_concurrency: data.max_concurrency,
    priority: data.priority,
    weight: data.weight,
    type: data.type ?? 'openai-compatible',
    type_source: data.type === undefined ? 'detected' : 'admin',
    health_check_interval_secs: data.health_check_interval_secs,
    inference_timeout_secs: data.inference_timeout_secs,
    latency_ms: null,
    last_seen: null,
    last_error: null,
    error_count: 0,
    registered_at: now,
    updated_at: now,
    notes: data.notes ?? null,
    static_models: data.models,
    version: 1,
  };
}

/**
 * A capability a model offers. The built-in ones: `chat`, `embeddings`, `rerank`, `audio`
 * (speech to text and text to speech), `image` (image generation) and `messages` (the Anthropic
 * Messages API).
 */
export type Capability = 'chat' | 'embeddings' | 'rerank' | 'audio' | 'image' | 'messages' | (string & {});

/**
 * Capabilities a model has without being detected with them, by what it was detected with: a
 * `chat` model can be reached through the Messages API (on backends that speak it; a backend
 * that does not answers 404 and the request fails over).
 */
const IMPLIED_BY: Readonly<Partial<Record<Capability, readonly Capability[]>>> = Object.freeze({ messages: Object.freeze(['chat']) });

/**
 * True when a model with `capabilities` can serve a request that needs `wanted`: it has it, or
 * it has one that implies it (`messages` from `chat`).
 *
 * @example
 * offersCapability(['chat'], 'messages') // → true
 * offersCapability(['embeddings'], 'chat') // → false
 */
export function offersCapability(capabilities: readonly Capability[], wanted: Capability): boolean {
  if (capabilities.includes(wanted)) return true;
  const implied = IMPLIED_BY[wanted];
  return implied !== undefined && implied.some((c) => capabilities.includes(c));
}

/**
 * Where a model's capabilities come from: `backend` (the server said, e.g. Ollama's
 * `/api/show`, LM Studio's `type`) or `name` (guessed from its name by the capability rules).
 */
export type CapabilitySource = 'backend' | 'name';

/** What the backend told about a model besides its id; null where it told nothing. */
export interface ModelMetadata {
  capabilities_source: CapabilitySource;
  /** Context window in tokens. */
  context_length: number | null;
  /** True when the model is in memory now (false: it would have to be loaded first). */
  loaded: boolean | null;
  /** Size of its weights in bytes. */
  size_bytes: number | null;
  /** Quantisation, as the backend names it (`Q4_K_M`, `4bit`, …). */
  quantization: string | null;
}

/** A model served by an endpoint (primary key: endpoint_id + model_id). */
export interface EndpointModel extends ModelMetadata {
  endpoint_id: string;
  model_id: string;
  capabilities: Capability[];
  last_checked: string;
}

/** A model reported by an upstream, before it is stored (absent metadata: unknown, capabilities by name). */
export interface DiscoveredModel extends Partial<ModelMetadata> {
  model_id: string;
  capabilities: Capability[];
}

/** The metadata of a discovered model, with the defaults for what it left out. */
export function modelMetadata(model: Partial<ModelMetadata>): ModelMetadata {
  return {
    capabilities_source: model.capabilities_source ?? 'name',
    context_length: model.context_length ?? null,
    loaded: model.loaded ?? null,
    size_bytes: model.size_bytes ?? null,
    quantization: model.quantization ?? null,
  };
}

/** Outcome of replacing an endpoint's model set: model ids per kind of change. */
export interface ModelSetDiff {
  added: string[];
  removed: string[];
  updated: string[];
}

/** One health-check history row. */
export interface EndpointHealthCheck {
  id: string;
  endpoint_id: string;
  checked_at: string;
  success: boolean;
  /** Set on success only. */
  latency_ms: number | null;
  /** Set on failure only. */
  error_message: string | null;
  status_before: EndpointStatus;
  status_after: EndpointStatus;
}

/** Converts zod issues into llmlb's {@link ValidationIssue}s. */
function toValidationIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...path, key].join('.'), message: 'unknown field' }));
    }
    return [{ path: path.join('.'), message: issue.message }];
  });
}

/**
 * Parses `input` with `schema`, throwing `validation_error` (with field paths) on failure.
 * `what` names the input in the error message, e.g. `"endpoint"`.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = toValidationIssues(result.error);
  const summary = details.map((d) => (d.path === '' ? d.message : `${d.path}: ${d.message}`)).join('; ');
  throw new LlmlbError('validation_error', `invalid ${what}: ${summary}`, { details });
}
