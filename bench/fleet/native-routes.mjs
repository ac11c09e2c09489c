// What a simulated server of bench/fleet.mjs publishes about itself besides the OpenAI routes,
// in each engine's real format, so llmlb detects its type and reads its load at check time:
//   vLLM      GET /version, GET /metrics (vllm:num_requests_running / _waiting, vllm:kv_cache_usage_perc)
//   llama.cpp GET /props (total_slots, n_ctx), GET /slots (is_processing per slot)
//   Ollama    GET /api/version, GET /api/tags, GET /api/ps, POST /api/show
// A server started without them (`publish: false`) answers 404 there, as a plain
// OpenAI-compatible server does: llmlb then knows nothing of its load.

/** Context window every simulated model reports, in tokens (above any prompt + output the load draws). */
export const CONTEXT_TOKENS = 8192;
/** KV-cache tokens per slot: the cache is full when every slot holds this many. */
const KV_TOKENS_PER_SLOT = 2048;
const DIGEST = 'sha256:6a0746a1ec1aef3e7ec53868f220ff6e389f6f8ef87a01d77c96807de94ca2aa';

/** The `/v1/models` entry of the simulated model, as the engine writes it. */
export function modelEntry(spec, model) {
  if (spec.engine === 'vllm') return { id: model, object: 'model', created: 1700000000, owned_by: 'vllm', max_model_len: CONTEXT_TOKENS };
  // Ollama's `owned_by` is the model's namespace (`library` for the official ones).
  return { id: model, object: 'model', created: 1700000000, owned_by: spec.engine === 'ollama' ? 'library' : spec.engine };
}

/** Tokens the running sequences hold in the KV cache, over its size. */
function kvUsage(sim) {
  let tokens = 0;
  for (const seq of sim.slots) tokens += seq.prompt + (seq.output - seq.left);
  return Math.min(1, tokens / (sim.spec.slots * KV_TOKENS_PER_SLOT));
}

function vllmMetrics(sim) {
  const label = `{model_name=${JSON.stringify(sim.model)}}`;
  return [
    '# HELP vllm:num_requests_running Number of requests in model execution batches.',
    '# TYPE vllm:num_requests_running gauge',
    `vllm:num_requests_running${label} ${sim.slots.length}.0`,
    '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
    '# TYPE vllm:num_requests_waiting gauge',
    `vllm:num_requests_waiting${label} ${sim.queue.length}.0`,
    '# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.',
    '# TYPE vllm:kv_cache_usage_perc gauge',
    `vllm:kv_cache_usage_perc${label} ${kvUsage(sim)}`,
    '',
  ].join('\n');
}

function ollamaModel(sim) {
  return { name: sim.model, model: sim.model, size: 4920753328, digest: DIGEST, details: { format: 'gguf', family: 'llama', parameter_size: '8.0B', quantization_level: 'Q4_K_M' } };
}

/** The GET answers of each engine: path → () => [content type, body]. */
const ROUTES = {
  vllm: {
    '/version': () => ['application/json', JSON.stringify({ version: '0.8.5' })],
    '/metrics': (sim) => ['text/plain; version=0.0.4; charset=utf-8', vllmMetrics(sim)],
  },
  llamacpp: {
    '/props': (sim) => ['application/json', JSON.stringify({ total_slots: sim.spec.slots, default_generation_settings: { n_ctx: CONTEXT_TOKENS }, modalities: { vision: false } })],
    '/slots': (sim) => [
      'application/json',
      JSON.stringify(Array.from({ length: sim.spec.slots }, (_, id) => ({ id, n_ctx: CONTEXT_TOKENS, is_processing: id < sim.slots.length }))),
    ],
  },
  ollama: {
    '/api/version': () => ['application/json', JSON.stringify({ version: '0.5.7' })],
    '/api/tags': (sim) => ['application/json', JSON.stringify({ models: [ollamaModel(sim)] })],
    '/api/ps': (sim) => ['application/json', JSON.stringify({ models: [{ ...ollamaModel(sim), size_vram: 4920753328, context_length: CONTEXT_TOKENS }] })],
  },
};

const SHOW = JSON.stringify({ capabilities: ['completion', 'tools'], model_info: { 'general.architecture': 'llama', 'llama.context_length': 131072 } });

/**
 * The native route of `sim` for `method path`: a function giving its answer now as
 * `[content type, body]`, or null when the engine has no such route (or the server does not
 * publish).
 */
export function nativeRoute(sim, method, path) {
  if (!sim.publish) return null;
  if (method === 'POST' && path === '/api/show' && sim.spec.engine === 'ollama') return () => ['application/json', SHOW];
  const route = method === 'GET' ? ROUTES[sim.spec.engine]?.[path] : undefined;
  return route ? () => route(sim) : null;
}
