/**
 * The standalone server driven by the official `openai` SDK: models, chat (plain and
 * streaming), embeddings, the Responses API (plain and streaming) and an audio transcription (a
 * file upload), all through llmlb to fake upstreams on 127.0.0.1.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.js';
import { parseUpload, serveRoutes } from '../helpers/fake-routes.js';
import { CLI, type ServerProcess, spawnServer, stopChild } from '../helpers/processes.js';

const ADMIN = 'e2e-admin-key-0123456789';
const CLIENT = 'e2e-client-key-0123456789';
let server: ServerProcess | undefined;
let base: string;
const upstreams: FakeUpstream[] = [];

async function admin(method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  upstreams.push(await startFakeUpstream({ name: 'chat', flavor: 'ollama', models: ['llama3.1:8b'] }));
  upstreams.push(await startFakeUpstream({ name: 'embed', models: ['nomic-embed-text'] }));
  upstreams.push(await startFakeUpstream({ name: 'speech', models: ['whisper-1'] }));
  for (const u of upstreams) serveRoutes(u);
  server = await spawnServer([CLI, 'serve', '--port', '0', '--memory'], {
    env: { LLMLB_API_KEYS: `${ADMIN}:admin,${CLIENT}:client` },
  });
  base = server.url;
  for (const u of upstreams) {
    const created = await admin('POST', '/v0/endpoints', { name: u.name, base_url: u.url() });
    expect(created.status).toBe(201);
    const test = await admin('POST', `/v0/endpoints/${created.body.id as string}/test`);
    expect(test.body.success).toBe(true);
  }
}, 60_000);

afterAll(async () => {
  if (server) await stopChild(server.child, 'SIGTERM');
  for (const u of upstreams) await u.stop();
});

describe('the openai SDK through llmlb', () => {
  const client = () => new OpenAI({ apiKey: CLIENT, baseURL: `${base}/v1`, maxRetries: 0 });

  it('lists models', async () => {
    const ids: string[] = [];
    for await (const model of client().models.list()) ids.push(model.id);
    expect(ids).toEqual(['llama3.1:8b', 'nomic-embed-text', 'whisper-1']);
  });

  it('creates a chat completion', async () => {
    const completion = await client().chat.completions.create({ model: 'llama3.1:8b', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]?.message.content).toBe('hello from chat');
  });

  it('streams a chat completion', async () => {
    const stream = await client().chat.completions.create({
      model: 'llama3.1:8b',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const parts: string[] = [];
    for await (const chunk of stream) parts.push(chunk.choices[0]?.delta.content ?? '');
    expect(parts.join('')).toBe('0 1 2 3 4 ');
  });

  it('creates embeddings', async () => {
    const result = await client().embeddings.create({ model: 'nomic-embed-text', input: ['a', 'b'] });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]?.embedding.map((x) => Math.round(x * 10) / 10)).toEqual([0.1, 0.2, 0.3]);
  });

  it('creates a response with the Responses API', async () => {
    const response = await client().responses.create({ model: 'llama3.1:8b', input: 'hi' });
    expect(response.output_text).toBe('hello from chat');
    expect(response.usage?.total_tokens).toBe(8);
  });

  it('streams a response with the Responses API', async () => {
    const stream = await client().responses.create({ model: 'llama3.1:8b', input: 'hi', stream: true });
    const types: string[] = [];
    const deltas: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') deltas.push(event.delta);
    }
    expect(deltas.join('')).toBe('0 1 2 3 4 ');
    expect([types[0], types.at(-1)]).toEqual(['response.created', 'response.completed']);
  });

  it('transcribes an uploaded audio file: the file reaches the whisper endpoint unchanged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'llmlb-e2e-'));
    const audio = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256));
    try {
      await writeFile(join(dir, 'meeting.wav'), audio);
      const transcription = await client().audio.transcriptions.create({ file: createReadStream(join(dir, 'meeting.wav')), model: 'whisper-1' });
      expect(transcription.text).toBe('speech heard 70000 bytes of meeting.wav for whisper-1');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const [sent] = upstreams[2]!.requestsTo('/v1/audio/transcriptions');
    const heard = await parseUpload(sent!.headers, sent!.body);
    expect(heard.files[0]!.bytes.equals(audio)).toBe(true);
    expect(upstreams[0]!.requestsTo('/v1/audio/transcriptions')).toHaveLength(0);
  });

  it('surfaces llmlb errors as SDK errors', async () => {
    await expect(
      client().chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
  });
});
