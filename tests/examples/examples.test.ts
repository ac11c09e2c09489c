/**
 * The files in examples/ as users run them: `node examples/<file>.mjs` as a real child process
 * importing the built package by name (`llmlb`, `llmlb/node`, …), driven over HTTP on 127.0.0.1
 * against fake upstreams, then stopped with SIGTERM. `dist/` is built once by the vitest global
 * setup (tests/global-setup.ts).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.js';
import { killStrays, ROOT, type ServerProcess, spawnServer, stopChild } from '../helpers/processes.js';

const examples = join(ROOT, 'examples');
const LISTENING = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m;

const ADMIN_KEY = 'example-admin-key-0123456789abcdef';
const CLIENT_KEY = 'example-client-key-0123456789abcdef';
const SECRET = 'example-secret-0123456789abcdef';
const UPSTREAM_KEY = 'sk-example-upstream-key-4f1c2a';

let dir: string;
/** Needs no api key; serves a chat model. */
let upstream: FakeUpstream;
/** Requires UPSTREAM_KEY; serves a chat and an embeddings model. */
let securedUpstream: FakeUpstream;
/** Base URL where nothing listens (a stopped server's port). */
let deadUrl: string;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) {
    throw new Error('dist/ is missing: run the tests through vitest (its global setup builds dist/)');
  }
  dir = mkdtempSync(join(tmpdir(), 'llmlb-examples-'));
  upstream = await startFakeUpstream({ name: 'open-upstream' });
  securedUpstream = await startFakeUpstream({
    name: 'secured-upstream',
    apiKey: UPSTREAM_KEY,
    models: ['llama3.1:8b', 'nomic-embed-text'],
  });
  const dead = await startFakeUpstream();
  deadUrl = dead.url();
  await dead.stop();
});

// Never leave an example server behind, whatever the test did.
afterEach(killStrays);

afterAll(async () => {
  await upstream?.stop();
  await securedUpstream?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Variables the examples read, removed from the inherited environment so the developer's shell cannot leak in. */
const EXAMPLE_VARS = new Set(['PORT', 'HOST', 'UPSTREAM_URL', 'UPSTREAM_NAME', 'UPSTREAM_API_KEY', 'ALICE_TOKEN', 'BOB_TOKEN']);

/** Spawns `node examples/<file>` (PORT=0, `env` on top) and resolves once it printed its `listening on` line. */
function start(file: string, env: Record<string, string>): Promise<ServerProcess> {
  return spawnServer([join(examples, file)], { cwd: dir, env: { PORT: '0', ...env }, unset: EXAMPLE_VARS, pattern: LISTENING });
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

async function call(url: string, method: string, path: string, token?: string, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  return { status: res.status, headers: res.headers, text, body: parsed };
}

const chat = (model = 'llama3.1:8b', extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});

describe('examples/standalone.mjs', () => {
  it('serves SQLite-backed llmlb with the admin key, registers UPSTREAM_URL once, proxies, and stops on SIGTERM', async () => {
    const env = {
      LLMLB_DB: join(dir, 'standalone.db'),
      LLMLB_SECRET: SECRET,
      LLMLB_ADMIN_KEY: ADMIN_KEY,
      UPSTREAM_URL: securedUpstream.url(),
      UPSTREAM_NAME: 'secured',
      UPSTREAM_API_KEY: UPSTREAM_KEY,
    };
    const first = await start('standalone.mjs', env);
    // The first health check (with the stored api key) ran before the server listened.
    expect(first.stdout()).toContain(`upstream secured (${securedUpstream.url()}): online, 2 model(s)`);

    expect((await call(first.url, 'GET', '/v0/endpoints')).status).toBe(401);
    const list = await call(first.url, 'GET', '/v0/endpoints', ADMIN_KEY);
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(1);
    expect(list.body.endpoints[0]).toMatchObject({ name: 'secured', status: 'online', has_api_key: true, model_count: 2 });
    expect(list.text).not.toContain(UPSTREAM_KEY);

    const models = await call(first.url, 'GET', '/v1/models', ADMIN_KEY);
    expect(models.status).toBe(200);
    expect(models.body.data.map((m: { id: string }) => m.id).sort()).toEqual(['llama3.1:8b', 'nomic-embed-text']);

    const completion = await call(first.url, 'POST', '/v1/chat/completions', ADMIN_KEY, chat());
    expect(completion.status).toBe(200);
    expect(completion.body.choices[0].message.content).toBe('hello from secured-upstream');
    expect(completion.headers.get('x-llmlb-endpoint')).toBe(list.body.endpoints[0].id);
    // The client's key was replaced by the endpoint's stored one.
    expect(securedUpstream.requestsTo('/v1/chat/completions').at(-1)!.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);

    expect(await stopChild(first.child)).toEqual({ code: 0, signal: null });

    // Restarted on the same database and secret: the endpoint (and its sealed key) is still
    // there and is not registered a second time.
    const second = await start('standalone.mjs', env);
    expect(second.stdout()).toContain('upstream secured');
    const again = await call(second.url, 'GET', '/v0/endpoints', ADMIN_KEY);
    expect(again.body.total).toBe(1);
    expect(again.body.endpoints[0].id).toBe(list.body.endpoints[0].id);
    const embeddings = await call(second.url, 'POST', '/v1/embeddings', ADMIN_KEY, { model: 'nomic-embed-text', input: 'hi' });
    expect(embeddings.status).toBe(200);
    expect(embeddings.body.data).toHaveLength(1);
    expect(await stopChild(second.child)).toEqual({ code: 0, signal: null });
  });
});

describe('examples/express-app.mjs', () => {
  it("keeps the app's own routes and authenticates llmlb under /llm with the app's users", async () => {
    const alice = 'alice-token-0123456789abcdef';
    const bob = 'bob-token-0123456789abcdef';
    const app = await start('express-app.mjs', { ALICE_TOKEN: alice, BOB_TOKEN: bob });

    // The app's own routes, no token needed.
    const home = await call(app.url, 'GET', '/');
    expect(home.status).toBe(200);
    expect(home.body).toMatchObject({ app: 'express example' });
    const health = await call(app.url, 'GET', '/health');
    expect(health).toMatchObject({ status: 200, body: { ok: true } });

    // llmlb under /llm answers through the app's auth function.
    const anonymous = await call(app.url, 'GET', '/llm/v0/endpoints');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthorized');
    expect((await call(app.url, 'GET', '/llm/v0/endpoints', 'not-a-user-token-0123456789')).status).toBe(401);
    expect((await call(app.url, 'GET', '/llm/v0/endpoints', bob)).status).toBe(403); // client role
    const empty = await call(app.url, 'GET', '/llm/v0/endpoints', alice);
    expect(empty).toMatchObject({ status: 200, body: { total: 0 } });

    // alice (admin) registers an upstream and runs a connection test; bob (client) chats.
    const created = await call(app.url, 'POST', '/llm/v0/endpoints', alice, { name: 'open', base_url: upstream.url() });
    expect(created.status).toBe(201);
    const tested = await call(app.url, 'POST', `/llm/v0/endpoints/${created.body.id}/test`, alice);
    expect(tested).toMatchObject({ status: 200, body: { success: true } });
    const completion = await call(app.url, 'POST', '/llm/v1/chat/completions', bob, chat());
    expect(completion.status).toBe(200);
    expect(completion.body.choices[0].message.content).toBe('hello from open-upstream');
    expect(completion.headers.get('x-llmlb-endpoint')).toBe(created.body.id);
    // The app's token never reaches the upstream.
    expect(upstream.requestsTo('/v1/chat/completions').at(-1)!.headers.authorization).toBeUndefined();

    // Paths outside llmlb's areas stay the app's (Express's own 404, not llmlb's JSON error).
    const unknown = await call(app.url, 'GET', '/llm/elsewhere');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toBeNull();

    expect(await stopChild(app.child)).toEqual({ code: 0, signal: null });
  });
});

describe('examples/fastify-app.mjs', () => {
  it('serves the app route and llmlb under /llm, streams a completion, and closes on SIGTERM', async () => {
    const app = await start('fastify-app.mjs', { LLMLB_ADMIN_KEY: ADMIN_KEY, LLMLB_CLIENT_KEY: CLIENT_KEY });

    const home = await call(app.url, 'GET', '/');
    expect(home.status).toBe(200);
    expect(home.body).toMatchObject({ app: 'fastify example' });

    const before = await call(app.url, 'GET', '/llm/v1/models', CLIENT_KEY);
    expect(before).toMatchObject({ status: 200, body: { object: 'list', data: [] } });
    expect((await call(app.url, 'GET', '/llm/v0/endpoints', CLIENT_KEY)).status).toBe(403);

    const created = await call(app.url, 'POST', '/llm/v0/endpoints', ADMIN_KEY, { name: 'open', base_url: upstream.url() });
    expect(created.status).toBe(201);
    const tested = await call(app.url, 'POST', `/llm/v0/endpoints/${created.body.id}/test`, ADMIN_KEY);
    expect(tested).toMatchObject({ status: 200, body: { success: true } });

    const models = await call(app.url, 'GET', '/llm/v1/models', CLIENT_KEY);
    expect(models.body.data).toEqual([expect.objectContaining({ id: 'llama3.1:8b', available: true })]);

    const streamed = await call(app.url, 'POST', '/llm/v1/chat/completions', CLIENT_KEY, chat('llama3.1:8b', { stream: true }));
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get('content-type')).toContain('text/event-stream');
    expect(streamed.text).toContain('"chat.completion.chunk"');
    expect(streamed.text.trimEnd().endsWith('data: [DONE]')).toBe(true);

    expect(await stopChild(app.child)).toEqual({ code: 0, signal: null });
  });
});

describe('examples/events.mjs', () => {
  it('prints checker and request events as one line each', async () => {
    const app = await start('events.mjs', { LLMLB_ADMIN_KEY: ADMIN_KEY, UPSTREAM_URL: upstream.url() });

    // The registered upstream's first check: synced, then pending → online.
    await app.waitFor(/^\[synced\] upstream: \+1 -0 ~0 \["llama3\.1:8b"\]$/m);
    await app.waitFor(/^\[statusChange\] upstream: pending -> online$/m);
    await app.waitFor(/^\[online\] upstream http:\/\/127\.0\.0\.1:\d+ latency=\d+ms$/m);

    // A proxied request → one request line.
    const completion = await call(app.url, 'POST', '/v1/chat/completions', ADMIN_KEY, chat());
    expect(completion.status).toBe(200);
    await app.waitFor(/^\[request\] chat model=llama3\.1:8b -> upstream status=200 attempts=1 ttfb=\d+\.\dms total=\d+\.\dms$/m);

    // An unknown model is answered by llmlb itself: the line carries its error code.
    expect((await call(app.url, 'POST', '/v1/chat/completions', ADMIN_KEY, chat('no-such-model'))).status).toBe(404);
    await app.waitFor(/^\[request\] chat model=no-such-model -> - status=404 attempts=0 ttfb=-ms total=\d+\.\dms error=model_not_found$/m);

    // An endpoint where nothing listens: its first check fails, pending → offline.
    const dead = await call(app.url, 'POST', '/v0/endpoints', ADMIN_KEY, { name: 'dead', base_url: deadUrl });
    expect(dead.status).toBe(201);
    await app.waitFor(/^\[statusChange\] dead: pending -> offline$/m);
    await app.waitFor(/^\[offline\] dead http:\/\/127\.0\.0\.1:\d+ status=offline error=".+"$/m);

    // Every event line is a single line.
    for (const line of app.stdout().split('\n').filter((l) => l.startsWith('['))) {
      expect(line).toMatch(/^\[(statusChange|online|offline|synced|request)\] /);
    }
    expect(await stopChild(app.child)).toEqual({ code: 0, signal: null });
  });
});
