/**
 * The standalone server driven by the official `@anthropic-ai/sdk` (which sends its key as
 * `x-api-key` with `anthropic-version`): a message, a streamed message and a token count through
 * llmlb to a fake upstream on 127.0.0.1 that speaks the Messages API, and an error in
 * Anthropic's shape.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.js';
import { serveRoutes } from '../helpers/fake-routes.js';
import { CLI, type ServerProcess, spawnServer, stopChild } from '../helpers/processes.js';

const ADMIN = 'e2e-admin-key-0123456789';
const CLIENT = 'e2e-client-key-0123456789';
let server: ServerProcess | undefined;
let upstream: FakeUpstream | undefined;

beforeAll(async () => {
  upstream = await startFakeUpstream({ name: 'coder', flavor: 'ollama', models: ['qwen3-coder:30b'] });
  serveRoutes(upstream);
  server = await spawnServer([CLI, 'serve', '--port', '0', '--memory'], {
    env: { LLMLB_API_KEYS: `${ADMIN}:admin,${CLIENT}:client` },
  });
  const res = await fetch(`${server.url}/v0/endpoints`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'coder', base_url: upstream.url() }),
  });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  const test = await fetch(`${server.url}/v0/endpoints/${id}/test`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
  expect(((await test.json()) as { success: boolean }).success).toBe(true);
}, 60_000);

afterAll(async () => {
  if (server) await stopChild(server.child, 'SIGTERM');
  await upstream?.stop();
});

describe('the Anthropic SDK through llmlb', () => {
  const client = () => new Anthropic({ apiKey: CLIENT, baseURL: server!.url, maxRetries: 0 });
  const params = { model: 'qwen3-coder:30b', max_tokens: 64, messages: [{ role: 'user' as const, content: 'hi' }] };

  it('creates a message', async () => {
    const message = await client().messages.create(params);
    expect(message.content).toEqual([{ type: 'text', text: 'hello from coder' }]);
    expect(message.usage.output_tokens).toBe(5);
    const sent = upstream!.requestsTo('/v1/messages').at(-1)!;
    // The SDK's own API version goes through untouched.
    expect(sent.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(sent.headers['x-api-key']).toBeUndefined();
  });

  it('streams a message', async () => {
    const stream = client().messages.stream(params);
    const texts: string[] = [];
    stream.on('text', (text) => texts.push(text));
    const final = await stream.finalMessage();
    expect(texts.join('')).toBe('0 1 2 3 4 ');
    expect(final.stop_reason).toBe('end_turn');
  });

  it('counts tokens', async () => {
    expect(await client().messages.countTokens({ model: 'qwen3-coder:30b', messages: params.messages })).toEqual({ input_tokens: 11 });
  });

  it('gets errors in Anthropic’s shape', async () => {
    const error = await client().messages.create({ ...params, model: 'claude-nope' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toEqual({ type: 'error', error: { type: 'not_found_error', message: expect.stringContaining('claude-nope') } });
    const unauthorized = await new Anthropic({ apiKey: 'not-a-configured-key-0123456789', baseURL: server!.url, maxRetries: 0 }).messages.create(params).catch((err: unknown) => err);
    expect(unauthorized).toBeInstanceOf(Anthropic.AuthenticationError);
  });
});
