/**
 * Self-registration end to end with real processes: the built `llmlb serve` (on a SQLite file,
 * restarted on the same port) and the built `llmlb agent` in front of a fake upstream on
 * 127.0.0.1. Register → pending and never routed → approved → routed; heartbeats with a wrong
 * token are refused, a pending node's heartbeats change nothing; the agent keeps going across a
 * router restart, registers again after a rejection, and stops cleanly on SIGTERM. No log line
 * carries a token.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.js';
import { until } from '../helpers/llmlb-server.js';
import { CLI, type NodeProcess, type ServerProcess, killStrays, spawnNode, spawnServer, stopChild } from '../helpers/processes.js';

const ADMIN_KEY = 'e2e-admin-key-for-nodes-0123456789';
const NODE_KEY = 'e2e-registration-token-0123456789';
const KEYS = { LLMLB_API_KEYS: `${ADMIN_KEY}:admin,${NODE_KEY}:node` };
const chat = { model: 'llama3.1:8b', messages: [{ role: 'user', content: 'hi' }] };

let dir: string;
let upstream: FakeUpstream;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'llmlb-agent-e2e-'));
  upstream = await startFakeUpstream({ name: 'node-upstream', models: ['llama3.1:8b'] });
});
afterEach(killStrays);
afterAll(async () => {
  await upstream?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A port free right now on 127.0.0.1, so that a restarted server can take the same one. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: `Bearer ${ADMIN_KEY}` }) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as any };
}

const serve = (args: string[]) => spawnServer([CLI, 'serve', ...args], { cwd: dir, env: KEYS });

function agent(router: string, extraEnv: Record<string, string> = {}): NodeProcess {
  return spawnNode([CLI, 'agent', '--router', router, '--base-url', upstream.url(), '--name', 'gpu-e2e', '--interval', '1', '--label', 'zone=e2e'], {
    cwd: dir,
    env: { LLMLB_NODE_REGISTRATION_TOKEN: NODE_KEY, LLMLB_NVIDIA_SMI: join(dir, 'no-nvidia-smi'), ...extraEnv },
  });
}

/** The one node the router lists, once there is one. */
async function theNode(server: ServerProcess) {
  await until(async () => (await call(server.url, 'GET', '/v0/nodes')).body.total === 1, 15_000);
  return (await call(server.url, 'GET', '/v0/nodes')).body.nodes[0];
}

/** Every line of `text` is free of tokens. */
function expectNoTokens(text: string): void {
  expect(text).not.toContain(NODE_KEY);
  expect(text).not.toContain(ADMIN_KEY);
  expect(text).not.toMatch(/llmlb_node_[A-Za-z0-9_-]{20}/);
}

describe('llmlb agent (built, as a process)', () => {
  it('registers, waits for approval unrouted, is routed once approved, and keeps going across a router restart', async () => {
    const port = await freePort();
    const db = join(dir, 'nodes.db');
    let server = await serve(['--port', String(port), '--db', db]);
    const node = agent(server.url);
    await node.waitFor(/"msg":"waiting for approval"/);

    const pending = await theNode(server);
    expect(pending).toMatchObject({ name: 'gpu-e2e', base_url: upstream.url(), admin_state: 'pending_approval', runtime_type: 'openai-compatible', gpus: [], labels: { zone: 'e2e' } });
    const id = pending.endpoint_id as string;
    await until(async () => (await call(server.url, 'GET', `/v0/endpoints/${id}`)).body.status === 'online', 15_000);

    // Online but pending: never routed. Its heartbeats change nothing but their time.
    expect((await call(server.url, 'POST', '/v1/chat/completions', chat)).status).toBe(503);
    expect(upstream.requestsTo('/v1/chat/completions')).toHaveLength(0);
    const before = (await call(server.url, 'GET', `/v0/endpoints/${id}`)).body;
    const heardAt = (await theNode(server)).last_heartbeat_at as string;
    await until(async () => (await theNode(server)).last_heartbeat_at !== heardAt, 15_000);
    expect((await call(server.url, 'GET', `/v0/endpoints/${id}`)).body).toStrictEqual(before);

    const wrong = await call(server.url, 'POST', '/v0/nodes/heartbeat', {}, { 'x-node-token': `llmlb_node_${'x'.repeat(43)}` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('unauthorized');

    expect((await call(server.url, 'POST', `/v0/endpoints/${id}/approve`)).body).toMatchObject({ admin_state: 'enabled' });
    await node.waitFor(/"msg":"approved"/);
    await node.waitFor(/"msg":"node token rotated"/);
    expect((await call(server.url, 'POST', '/v1/chat/completions', chat)).status).toBe(200);
    expect(upstream.requestsTo('/v1/chat/completions')).toHaveLength(1);

    // The router goes away and comes back on the same database and port: the agent carries on.
    expect(await stopChild(server.child, 'SIGTERM')).toEqual({ code: 0, signal: null });
    await node.waitFor(/"msg":"router unreachable"/);
    server = await serve(['--port', String(port), '--db', db]);
    await until(async () => (await theNode(server)).last_heartbeat_at !== null, 30_000);
    expect((await theNode(server)).admin_state).toBe('enabled');
    expect(node.stdout().match(/"msg":"registered with the router"/g)).toHaveLength(1);

    expect(await stopChild(node.child, 'SIGTERM')).toEqual({ code: 0, signal: null });
    expect(node.stdout()).toContain('"msg":"llmlb agent stopped"');
    expect(await stopChild(server.child, 'SIGTERM')).toEqual({ code: 0, signal: null });
    expectNoTokens(`${node.stdout()}${node.stderr()}${server.stdout()}${server.stderr()}`);
  });

  it('sends the GPUs nvidia-smi reports; after a rejection it registers again, pending', async () => {
    const smi = join(dir, 'fake-nvidia-smi');
    writeFileSync(smi, '#!/bin/sh\necho "NVIDIA L4, 23034, 40"\necho "NVIDIA L4, 23034, 20"\n');
    chmodSync(smi, 0o755);
    const server = await serve(['--port', '0', '--memory']);
    const node = agent(server.url, { LLMLB_NVIDIA_SMI: smi });
    const first = await theNode(server);
    expect(first.gpus).toEqual([
      { model: 'NVIDIA L4', memory_mb: 23034 },
      { model: 'NVIDIA L4', memory_mb: 23034 },
    ]);
    expect((await call(server.url, 'POST', `/v0/endpoints/${first.endpoint_id}/reject`)).status).toBe(204);
    await node.waitFor(/"msg":"the router does not know this node: registering again"/);
    await until(() => (node.stdout().match(/"msg":"registered with the router"/g) ?? []).length === 2, 15_000);
    const again = await theNode(server);
    expect(again.endpoint_id).not.toBe(first.endpoint_id);
    expect(again.admin_state).toBe('pending_approval');
    expect(await stopChild(node.child, 'SIGINT')).toEqual({ code: 0, signal: null });
    expectNoTokens(`${node.stdout()}${node.stderr()}${server.stdout()}`);
  });
});
