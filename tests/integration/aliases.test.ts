/**
 * Model aliases end to end: real fake upstreams on 127.0.0.1 (one Ollama-named, one vLLM-named)
 * behind a router on node:http. A request for the alias reaches both, each upstream receives its
 * own model id (the rest of the body byte for byte), streams included; capabilities, failover,
 * affinity and the model lists.
 */
import { describe, expect, it } from 'vitest';
import { roundRobinSelector } from '../../src/select/index.js';
import { multipartBody, parseUpload, serveRoutes } from '../helpers/fake-routes.js';
import type { FakeUpstream } from '../helpers/fake-upstream.js';
import type { Logger } from '../../src/logger.js';
import { ADMIN_KEY, CLIENT_KEY, type LlmlbServer, useFixtures } from '../helpers/llmlb-server.js';

const { upstream, llmlb, register } = useFixtures();

const OLLAMA_ID = 'llama3.1:8b';
const VLLM_ID = 'meta-llama/Llama-3.1-8B-Instruct';
const ALIAS = 'llama3.1';

/** Two upstreams naming the same model their own way, registered on a round-robin router with the alias. */
async function fleet(options: Parameters<typeof llmlb>[0] = {}): Promise<{ s: LlmlbServer; ollama: FakeUpstream; vllm: FakeUpstream; ids: string[] }> {
  const ollama = await upstream({ name: 'ollama', flavor: 'ollama', models: [OLLAMA_ID, 'nomic-embed-text:latest'] });
  const vllm = await upstream({ name: 'vllm', models: [VLLM_ID] });
  const s = await llmlb({ selector: roundRobinSelector(), ...options });
  const ids = [await register(s, ollama), await register(s, vllm)];
  const created = await s.admin('POST', '/v0/aliases', { name: ALIAS, targets: [OLLAMA_ID, VLLM_ID] });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return { s, ollama, vllm, ids };
}

/** The bodies an upstream received on a path, as text. */
const bodies = (u: FakeUpstream, path = '/v1/chat/completions'): string[] => u.requestsTo(path).map((r) => r.body.toString('utf8'));

describe('a request for an alias', () => {
  it('goes to endpoints of every target, each receiving its own model id and the rest of the body unchanged', async () => {
    const { s, ollama, vllm } = await fleet();
    // Big integers and number spellings survive: only the model's bytes change.
    const text = (n: number) => `{"model":"${ALIAS}","seed":12345678901234567890,"temperature":1.0,"messages":[{"role":"user","content":"n${n}"}]}`;
    const answers: { model: string; endpoint: string | null }[] = [];
    for (let n = 0; n < 4; n++) {
      const res = await s.infer('/v1/chat/completions', text(n));
      expect(res.status).toBe(200);
      answers.push({ model: ((await res.json()) as { model: string }).model, endpoint: res.headers.get('x-llmlb-endpoint') });
    }
    expect(bodies(ollama)).toHaveLength(2);
    expect(bodies(vllm)).toHaveLength(2);
    for (const [u, id] of [[ollama, OLLAMA_ID], [vllm, VLLM_ID]] as const) {
      for (const body of bodies(u)) {
        expect(body).toMatch(/^\{"model":"[^"]+","seed":12345678901234567890,"temperature":1.0,"messages":\[\{"role":"user","content":"n\d"\}\]\}$/);
        expect(JSON.parse(body).model).toBe(id);
      }
    }
    // The response's model is the upstream's own id (llmlb relays answers untouched).
    expect(new Set(answers.map((a) => a.model))).toEqual(new Set([OLLAMA_ID, VLLM_ID]));
  });

  it('sends the rewritten body with a content-length that matches it', async () => {
    const { s, ollama, vllm } = await fleet();
    for (let n = 0; n < 2; n++) expect((await s.infer('/v1/chat/completions', { model: ALIAS, messages: [] })).status).toBe(200);
    for (const request of [...ollama.requestsTo('/v1/chat/completions'), ...vllm.requestsTo('/v1/chat/completions')]) {
      expect(Number(request.headers['content-length'])).toBe(request.body.length);
    }
  });

  it('streams from both targets, each upstream receiving its own model id', async () => {
    const { s, ollama, vllm } = await fleet();
    for (let n = 0; n < 2; n++) {
      const res = await s.infer('/v1/chat/completions', { model: ALIAS, stream: true, messages: [{ role: 'user', content: 'hi' }] });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const text = await res.text();
      expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
      const model = JSON.parse(text.split('\n')[0]!.slice('data: '.length)).model as string;
      expect([OLLAMA_ID, VLLM_ID]).toContain(model);
    }
    expect(bodies(ollama).map((b) => JSON.parse(b))).toEqual([{ model: OLLAMA_ID, stream: true, messages: [{ role: 'user', content: 'hi' }] }]);
    expect(bodies(vllm).map((b) => JSON.parse(b))).toEqual([{ model: VLLM_ID, stream: true, messages: [{ role: 'user', content: 'hi' }] }]);
  });

  it('fails over from one target to another when an endpoint fails before answering', async () => {
    const { s, ollama, vllm } = await fleet();
    vllm.inferenceStatus = 503;
    for (let n = 0; n < 3; n++) {
      const res = await s.infer('/v1/chat/completions', { model: ALIAS, messages: [] });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { model: string }).model).toBe(OLLAMA_ID);
    }
    // The failed attempts reached vLLM with its own id too.
    expect(bodies(vllm).length).toBeGreaterThan(0);
    expect(bodies(vllm).every((b) => JSON.parse(b).model === VLLM_ID)).toBe(true);
    expect(bodies(ollama).every((b) => JSON.parse(b).model === OLLAMA_ID)).toBe(true);
  });

  it('routes by capability across targets: embeddings only to the target that embeds', async () => {
    const { s, ollama, vllm } = await fleet();
    await s.admin('POST', '/v0/aliases', { name: 'mixed', targets: [VLLM_ID, 'nomic-embed-text:latest'] });
    for (let n = 0; n < 3; n++) expect((await s.infer('/v1/embeddings', { model: 'mixed', input: 'x' })).status).toBe(200);
    expect(bodies(ollama, '/v1/embeddings').map((b) => JSON.parse(b).model)).toEqual(Array(3).fill('nomic-embed-text:latest'));
    for (let n = 0; n < 2; n++) expect((await s.infer('/v1/chat/completions', { model: 'mixed', messages: [] })).status).toBe(200);
    expect(bodies(vllm).map((b) => JSON.parse(b).model)).toEqual([VLLM_ID, VLLM_ID]);
    // An alias none of whose targets embeds: the OpenAI-shaped 400.
    const refused = await s.infer('/v1/embeddings', { model: ALIAS, input: 'x' });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  });

  it('keeps a session on one endpoint (affinity), with that endpoint\'s model id', async () => {
    const { s, ollama, vllm } = await fleet({ proxy: { affinity: true } });
    const seen = new Set<string | null>();
    for (let n = 0; n < 4; n++) {
      const res = await s.infer('/v1/chat/completions', { model: ALIAS, messages: [] }, { headers: { 'x-session-id': 'session-1' } });
      expect(res.status).toBe(200);
      seen.add(res.headers.get('x-llmlb-endpoint'));
    }
    expect(seen.size).toBe(1);
    const [hit] = [ollama, vllm].filter((u) => bodies(u).length === 4);
    expect(hit).toBeDefined();
    expect(new Set(bodies(hit!).map((b) => JSON.parse(b).model))).toEqual(new Set([hit === ollama ? OLLAMA_ID : VLLM_ID]));
  });

  it('leaves requests for a target id, and their bytes, alone', async () => {
    const { s, vllm } = await fleet();
    const text = `{ "model" : "${VLLM_ID}", "messages": [] }`;
    expect((await s.infer('/v1/chat/completions', text)).status).toBe(200);
    expect(bodies(vllm)).toEqual([text]);
  });

  it('is 404 model_not_found once deleted, and follows a change of targets at once', async () => {
    const { s, ollama, vllm } = await fleet();
    const updated = await s.admin('PUT', `/v0/aliases/${ALIAS}`, { targets: [VLLM_ID] });
    expect(updated.status).toBe(200);
    for (let n = 0; n < 2; n++) expect((await s.infer('/v1/chat/completions', { model: ALIAS, messages: [] })).status).toBe(200);
    expect([bodies(ollama).length, bodies(vllm).length]).toEqual([0, 2]);
    expect((await s.admin('DELETE', `/v0/aliases/${ALIAS}`)).status).toBe(204);
    const gone = await s.infer('/v1/chat/completions', { model: ALIAS, messages: [] });
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { error: { code: string } }).error.code).toBe('model_not_found');
  });

  it('answers 503 no_available_endpoint when no target has a routable endpoint', async () => {
    const { s, ids } = await fleet();
    for (const id of ids) await s.admin('PUT', `/v0/endpoints/${id}`, { admin_state: 'disabled' });
    const res = await s.infer('/v1/chat/completions', { model: ALIAS, messages: [] });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('no_available_endpoint');
  });
});

describe('aliases in the model lists', () => {
  it('GET /v1/models lists the alias with availability, capabilities and targets; GET /v1/models/{alias} works', async () => {
    const { s } = await fleet();
    await s.admin('POST', '/v0/aliases', { name: 'org/unserved', targets: ['nowhere-1'] });
    const res = await fetch(`${s.url}/v1/models`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
    const list = (await res.json()) as { data: Record<string, unknown>[] };
    expect(list.data.map((m) => m.id)).toEqual([OLLAMA_ID, ALIAS, VLLM_ID, 'nomic-embed-text:latest', 'org/unserved'].sort());
    const alias = list.data.find((m) => m.id === ALIAS);
    expect(alias).toEqual({ id: ALIAS, object: 'model', created: expect.any(Number), owned_by: 'llmlb', available: true, capabilities: ['chat'], context_length: null, loaded: null, endpoints: 2, targets: [OLLAMA_ID, VLLM_ID] });
    expect(list.data.find((m) => m.id === 'org/unserved')).toMatchObject({ available: false, capabilities: [], endpoints: 0, targets: ['nowhere-1'] });
    expect(list.data.find((m) => m.id === VLLM_ID)).not.toHaveProperty('targets');
    const one = await fetch(`${s.url}/v1/models/org/unserved`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ id: 'org/unserved', targets: ['nowhere-1'], available: false });
    // A request for it finds the alias but nothing to serve it now.
    const none = await s.infer('/v1/chat/completions', { model: 'org/unserved', messages: [] });
    expect(none.status).toBe(503);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('no_available_endpoint');
  });

  it('GET /v0/models shows aliases with their targets as models, and an alias that extends a served model replaces it in /v1/models', async () => {
    const { s } = await fleet();
    // A served id may become an alias only by listing itself: it then stands for both.
    expect((await s.admin('POST', '/v0/aliases', { name: VLLM_ID, targets: [OLLAMA_ID] })).status).toBe(409);
    expect((await s.admin('POST', '/v0/aliases', { name: VLLM_ID, targets: [VLLM_ID, OLLAMA_ID] })).status).toBe(201);
    const admin = await s.admin('GET', '/v0/models');
    expect(admin.body.total).toBe(3);
    const extended = admin.body.aliases.find((a: { id: string }) => a.id === VLLM_ID);
    expect(extended).toMatchObject({ shadows_model: true, available: true, capabilities: ['chat'] });
    expect(extended.targets.map((t: { id: string; endpoints: unknown[] }) => [t.id, t.endpoints.length])).toEqual([[VLLM_ID, 1], [OLLAMA_ID, 1]]);
    expect(s.router.models.list().map((m) => m.id)).toContain(VLLM_ID);
    const listed = await fetch(`${s.url}/v1/models`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
    const entries = ((await listed.json()) as { data: { id: string; targets?: string[] }[] }).data.filter((m) => m.id === VLLM_ID);
    expect(entries).toEqual([expect.objectContaining({ id: VLLM_ID, targets: [VLLM_ID, OLLAMA_ID] })]);
  });
});

describe('an upload for an alias', () => {
  it('reaches the endpoint with its own model id in the form field, the file byte for byte', async () => {
    const whisper = await upstream({ name: 'whisper', models: ['Systran/faster-whisper-large-v3'] });
    serveRoutes(whisper);
    const s = await llmlb();
    await register(s, whisper);
    expect((await s.admin('POST', '/v0/aliases', { name: 'whisper-1', targets: ['Systran/faster-whisper-large-v3'] })).status).toBe(201);
    const audio = Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 13) % 256));
    const sent = multipartBody({ model: 'whisper-1', language: 'en' }, { name: 'talk.wav', bytes: audio }, true);
    const res = await fetch(`${s.url}/v1/audio/transcriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': sent.contentType },
      body: sent.body,
    });
    expect(res.status).toBe(200);
    const got = whisper.requestsTo('/v1/audio/transcriptions')[0]!;
    expect(got.body).toEqual(multipartBody({ model: 'Systran/faster-whisper-large-v3', language: 'en' }, { name: 'talk.wav', bytes: audio }, true).body);
    expect(Number(got.headers['content-length'])).toBe(got.body.length);
    const upload = await parseUpload(got.headers, got.body);
    expect(upload.fields.model).toBe('Systran/faster-whisper-large-v3');
    expect(upload.files[0]!.bytes.equals(audio)).toBe(true);
  });
});

describe('alias writes', () => {
  it('are logged once each, with the key name and never the key', async () => {
    const lines: { obj: Record<string, unknown>; msg: string | undefined }[] = [];
    const record = (obj: unknown, msg?: string) => void lines.push({ obj: obj as Record<string, unknown>, msg });
    const s = await llmlb({ logger: { debug: () => undefined, info: record, warn: () => undefined, error: () => undefined } as Logger });
    expect((await s.admin('POST', '/v0/aliases', { name: 'fast', targets: ['a'] })).status).toBe(201);
    expect((await s.admin('PUT', '/v0/aliases/fast', { targets: ['a', 'b'] })).status).toBe(200);
    expect((await s.admin('POST', '/v0/aliases', { name: 'fast', targets: ['a'] })).status).toBe(409);
    expect((await s.admin('DELETE', '/v0/aliases/fast')).status).toBe(204);
    const writes = lines.filter((l) => l.msg === 'alias write').map((l) => [l.obj.action, l.obj.alias]);
    expect(writes).toEqual([['create', 'fast'], ['update', 'fast'], ['delete', 'fast']]);
    expect(JSON.stringify(lines)).not.toContain(ADMIN_KEY);
  });
});
