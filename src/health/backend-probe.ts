/**
 * The default probe: the model list (`GET /v1/models`, or Ollama's `/api/tags` — first for an
 * Ollama, as the fallback for anything else), the endpoint's type (detected when asked, kept
 * when an admin set it) and what that type of server tells besides (`backends/read.ts`).
 */
import { detectType } from '../backends/detect.js';
import { OllamaShowCache, type ReadRoute, readBackend } from '../backends/read.js';
import { readOptional } from '../backends/upstream.js';
import type { EndpointType } from '../schema.js';
import { type ListResult, type Probe, type ProbeOptions, type ProbeTarget, probeList } from './probe.js';
import type { FailureKind } from './transition.js';

/** Failures after which the other model-list route is tried: the server answered, but not with a list there. */
const TRY_OTHER_LIST: ReadonlySet<FailureKind> = new Set(['http_status', 'not_a_model_list']);

/** The type to use without detecting: an admin's, or the stored one when no detection is asked. */
function knownType(target: ProbeTarget): EndpointType | null {
  if (target.type_source === 'admin' || target.detect !== true) return target.type ?? 'openai-compatible';
  return null;
}

/**
 * The model list: the type's own route first (`/api/tags` for an Ollama), the other one when the
 * server does not list models there; when neither does, the failure of `/v1/models` is the one
 * reported.
 */
async function listModels(target: ProbeTarget, known: EndpointType | null, options: ProbeOptions): Promise<ListResult> {
  const [first, second] = known === 'ollama' ? ['/api/tags', '/v1/models'] : ['/v1/models', '/api/tags'];
  const listed = await probeList(target, first, options);
  if (listed.ok || !TRY_OTHER_LIST.has(listed.kind)) return listed;
  const other = await probeList(target, second, options);
  if (other.ok) return other;
  return first === '/v1/models' ? listed : other;
}

/**
 * Builds the backend-aware probe. The `/api/show` cache is shared by every check of the router.
 *
 * @example
 * const probe = backendProbe({ fetch, clock: systemClock, timeoutMs: 5000, maxBodyBytes: 8 << 20 });
 * const result = await probe({ base_url: 'http://127.0.0.1:11434', apiKey: null, detect: true }, signal);
 * if (result.ok) result.backend?.type; // 'ollama'
 */
export function backendProbe(options: Omit<ProbeOptions, 'signal'>, cache = new OllamaShowCache()): Probe {
  return async (target, signal) => {
    const opts = { ...options, signal };
    const known = knownType(target);
    const listed = await listModels(target, known, opts);
    if (!listed.ok) return listed;
    const read: ReadRoute = (path, body) => readOptional(target, path, opts, body);
    // Only an Ollama lists its models at /api/tags.
    const type = known ?? (listed.path === '/api/tags' ? 'ollama' : await detectType(listed.list, listed.server, read));
    const backend = await readBackend(type, listed.list, read, cache);
    return { ok: true, latencyMs: listed.latencyMs, modelIds: listed.list.ids, server: listed.server, backend };
  };
}
