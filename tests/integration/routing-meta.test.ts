/**
 * Routing by what llmlb knows of each backend, against fake Ollama and vLLM servers on
 * 127.0.0.1: capabilities the server tells, context windows, loaded models and published load.
 */
import { describe, expect, it } from 'vitest';
import { type FakeBackend, startFakeBackend } from '../helpers/fake-backend.js';
import { gateChat, json } from '../helpers/fake-upstream.js';
import { type LlmlbServer, until, useFixtures } from '../helpers/llmlb-server.js';

const { llmlb, register } = useFixtures();
const CHAT = '/v1/chat/completions';
const TOOL = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

/** Fake servers of one type, stopped after the test. */
async function backends(type: 'ollama' | 'vllm', n: number, use: (servers: FakeBackend[]) => Promise<void>): Promise<void> {
  // An Ollama listing its models only at /api/tags: the list, capabilities and loaded state all come from its native API.
  const servers = await Promise.all(Array.from({ length: n }, () => startFakeBackend(type, type === 'ollama' ? { without: ['/v1/models'] } : {})));
  try {
    await use(servers);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** An Ollama serving `models` (name → digest and `/api/show` capabilities), with `loaded` of them in memory. */
function ollamaServes(server: FakeBackend, models: Record<string, { digest: string; capabilities: string[] }>, loaded: string[] = []): void {
  const entry = (name: string) => ({ name, model: name, size: 4_000_000_000, digest: models[name]!.digest, details: { quantization_level: 'Q4_K_M' } });
  server.serve('/api/tags', JSON.stringify({ models: Object.keys(models).map(entry) }));
  server.serve('/api/ps', JSON.stringify({ models: loaded.map((name) => ({ ...entry(name), context_length: 8192 })) }));
  server.upstream.routes.set('POST /api/show', (_req, res, body) => {
    const name = (JSON.parse(body.toString('utf8')) as { model: string }).model;
    json(res, 200, { capabilities: models[name]?.capabilities ?? [], model_info: { 'general.architecture': 'llama', 'llama.context_length': 32768 } });
  });
}

/** A vLLM serving `model` with a context window of `maxModelLen` tokens. */
function vllmServes(server: FakeBackend, model: string, maxModelLen: number): void {
  server.serve('/v1/models', JSON.stringify({ object: 'list', data: [{ id: model, object: 'model', created: 1, owned_by: 'vllm', max_model_len: maxModelLen }] }));
}

/** vLLM's `/metrics` with these scheduler figures. */
const vllmMetrics = (running: number, waiting: number) =>
  [
    '# TYPE vllm:num_requests_running gauge',
    `vllm:num_requests_running{model_name="m"} ${running}.0`,
    '# TYPE vllm:num_requests_waiting gauge',
    `vllm:num_requests_waiting{model_name="m"} ${waiting}.0`,
    '# TYPE vllm:kv_cache_usage_perc gauge',
    'vllm:kv_cache_usage_perc{model_name="m"} 0.2',
    '',
  ].join('\n');

/** Sends `n` chat requests one after the other; returns the endpoint ids that answered. */
async function sequential(s: LlmlbServer, n: number, body: Record<string, unknown>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await s.infer(CHAT, body);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    ids.push(res.headers.get('x-llmlb-endpoint') ?? '');
  }
  return ids;
}

describe('routing by backend metadata', () => {
  it('sends a tools request only where the Ollama model has tools, and answers 400 model_not_capable when none has', async () => {
    await backends('ollama', 2, async ([plain, tooled]) => {
      ollamaServes(plain!, { 'm:7b': { digest: 'a1', capabilities: ['completion'] }, 'small:1b': { digest: 'c3', capabilities: ['completion'] } });
      ollamaServes(tooled!, { 'm:7b': { digest: 'b2', capabilities: ['completion', 'tools'] } });
      const s = await llmlb();
      const plainId = await register(s, plain!.upstream, { name: 'plain' });
      const tooledId = await register(s, tooled!.upstream, { name: 'tooled' });
      const model = await s.admin('GET', `/v0/endpoints/${plainId}`);
      expect(model.body.models.find((m: { model_id: string }) => m.model_id === 'm:7b')).toMatchObject({ capabilities_source: 'backend', capabilities: ['chat'] });

      const ask = { model: 'm:7b', messages: [{ role: 'user', content: 'weather in Oslo?' }] };
      expect(new Set(await sequential(s, 6, { ...ask, tools: [TOOL] }))).toEqual(new Set([tooledId]));
      // Without tools the other one takes traffic too; with it disabled, a tools request has
      // nowhere to go now: 503, not 400 (an endpoint that could take it exists).
      await s.admin('PUT', `/v0/endpoints/${tooledId}`, { admin_state: 'disabled' });
      expect(await sequential(s, 2, ask)).toEqual([plainId, plainId]);
      const later = await s.infer(CHAT, { ...ask, tools: [TOOL] });
      expect([later.status, ((await later.json()) as { error: { code: string } }).error.code]).toEqual([503, 'no_available_endpoint']);
      await s.admin('PUT', `/v0/endpoints/${tooledId}`, { admin_state: 'enabled' });

      const none = await s.infer(CHAT, { model: 'small:1b', messages: ask.messages, tools: [TOOL] });
      expect(none.status).toBe(400);
      const { error } = (await none.json()) as { error: { code: string; type: string; message: string } };
      expect(error).toMatchObject({ code: 'model_not_capable', type: 'invalid_request_error' });
      expect(error.message).toContain('tools');
      const image = { model: 'm:7b', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] };
      const vision = await s.infer(CHAT, image);
      expect(vision.status).toBe(400);
      expect(((await vision.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'model_not_capable', message: expect.stringContaining('vision') });
      // The Responses and Anthropic Messages bodies are read the same way, each answered in its own error shape.
      const responses = await s.infer('/v1/responses', { model: 'm:7b', input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'data:image/png;base64,AAAA' }] }] });
      expect([responses.status, ((await responses.json()) as { error: { code: string } }).error.code]).toEqual([400, 'model_not_capable']);
      const messages = await s.infer('/v1/messages', { model: 'small:1b', max_tokens: 64, messages: ask.messages, tools: [{ name: 'get_weather', input_schema: { type: 'object' } }] });
      expect(messages.status).toBe(400);
      expect(await messages.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('tools') } });
      // Nothing reached an upstream for the refused requests.
      const inference = (u: FakeBackend) => u.upstream.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/v1/')).length;
      expect(inference(plain!) + inference(tooled!)).toBe(8);
    });
  });

  it('skips the endpoint whose context is too small for a long prompt, and answers 400 context_length_exceeded when none fits', async () => {
    await backends('vllm', 2, async ([small, large]) => {
      vllmServes(small!, 'm', 4096);
      vllmServes(large!, 'm', 32768);
      const s = await llmlb();
      const smallId = await register(s, small!.upstream, { name: 'small' });
      const largeId = await register(s, large!.upstream, { name: 'large' });
      const short = { model: 'm', messages: [{ role: 'user', content: 'hello' }], max_tokens: 100 };
      await s.admin('PUT', `/v0/endpoints/${largeId}`, { admin_state: 'disabled' });
      expect(await sequential(s, 2, short)).toEqual([smallId, smallId]);
      await s.admin('PUT', `/v0/endpoints/${largeId}`, { admin_state: 'enabled' });
      // About 6 000 tokens of prompt (4 bytes each): over the small window, within the large one.
      const long = { ...short, messages: [{ role: 'user', content: 'lorem ipsum '.repeat(2000) }] };
      expect(new Set(await sequential(s, 6, long))).toEqual(new Set([largeId]));
      // The prompt fits 4 096 but not with the output asked for.
      const tight = { ...short, messages: [{ role: 'user', content: 'x'.repeat(12_000) }], max_tokens: 2000 };
      expect(new Set(await sequential(s, 3, tight))).toEqual(new Set([largeId]));

      const huge = await s.infer(CHAT, { ...short, messages: [{ role: 'user', content: 'lorem ipsum '.repeat(12_000) }] });
      expect(huge.status).toBe(400);
      const { error } = (await huge.json()) as { error: { code: string; type: string; message: string } };
      expect(error).toMatchObject({ code: 'context_length_exceeded', type: 'invalid_request_error' });
      expect(error.message).toMatch(/about 36\d{3} tokens/);
      expect(error.message).toContain('32768');
    });
  });

  it('prefers the endpoint with the model loaded until it is at its cap', async () => {
    await backends('ollama', 2, async ([warm, cold]) => {
      const models = { 'm:7b': { digest: 'w1', capabilities: ['completion', 'tools'] } };
      ollamaServes(warm!, models, ['m:7b']);
      ollamaServes(cold!, { 'm:7b': { digest: 'w2', capabilities: ['completion', 'tools'] } });
      const s = await llmlb();
      const warmId = await register(s, warm!.upstream, { name: 'warm', max_concurrency: 1 });
      const coldId = await register(s, cold!.upstream, { name: 'cold' });
      const ask = { model: 'm:7b', messages: [{ role: 'user', content: 'hi' }] };
      const first = await s.infer(CHAT, ask);
      expect([first.headers.get('x-llmlb-endpoint'), first.headers.get('x-llmlb-route')]).toEqual([warmId, 'loaded']);
      await first.arrayBuffer();
      expect(new Set(await sequential(s, 5, ask))).toEqual(new Set([warmId]));

      // The loaded one is busy at its cap: the next request does not wait, it goes to the other.
      const gate = gateChat(warm!.upstream);
      const held = s.infer(CHAT, ask);
      await until(() => gate.running() === 1);
      const spilled = await s.infer(CHAT, ask);
      expect(spilled.headers.get('x-llmlb-endpoint')).toBe(coldId);
      await spilled.arrayBuffer();
      gate.open();
      expect((await held).headers.get('x-llmlb-endpoint')).toBe(warmId);
    });
  });

  it('sends less traffic to an endpoint whose /metrics shows a deep waiting queue, and follows the figures as they change', async () => {
    await backends('vllm', 2, async ([busy, idle]) => {
      vllmServes(busy!, 'm', 32768);
      vllmServes(idle!, 'm', 32768);
      busy!.serve('/metrics', vllmMetrics(16, 24));
      idle!.serve('/metrics', vllmMetrics(1, 0));
      const s = await llmlb();
      const busyId = await register(s, busy!.upstream, { name: 'busy' });
      const idleId = await register(s, idle!.upstream, { name: 'idle' });
      const stats = await s.admin('GET', `/v0/endpoints/${busyId}/stats`);
      expect(stats.body.upstream).toMatchObject({ running: 16, waiting: 24 });
      const ask = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
      const before = await sequential(s, 10, ask);
      expect(before.filter((id) => id === busyId).length).toBeLessThan(before.filter((id) => id === idleId).length);
      expect(before.filter((id) => id === busyId).length).toBeLessThanOrEqual(1);

      // The queue moves to the other server; the next checks read it.
      busy!.serve('/metrics', vllmMetrics(0, 0));
      idle!.serve('/metrics', vllmMetrics(16, 40));
      await s.router.checker.check(busyId);
      await s.router.checker.check(idleId);
      const after = await sequential(s, 10, ask);
      expect(after.filter((id) => id === idleId).length).toBeLessThan(after.filter((id) => id === busyId).length);
    });
  });
});
