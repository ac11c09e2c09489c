/**
 * Self-registered nodes over HTTP: a router behind node:http on 127.0.0.1 with fake upstreams.
 * Registration with a `node` key, approval and rejection, re-registration, heartbeats (wrong
 * tokens, pending nodes, load figures, token rotation), and two routers sharing one database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { routerInternals } from '../../src/internals.js';
import { sqliteStorage } from '../../src/storage/sqlite/index.js';
import { CLIENT_KEY, type LlmlbServer, NODE_KEY, VIEWER_KEY, useFixtures } from '../helpers/llmlb-server.js';

const { upstream, llmlb } = useFixtures();
const chat = { model: 'llama3.1:8b', messages: [{ role: 'user', content: 'hi' }] };
const GPU = { model: 'NVIDIA L4', memory_mb: 23034 };

async function call(s: LlmlbServer, method: string, path: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? null : JSON.parse(text) };
}

const registerNode = (s: LlmlbServer, body: unknown, key = NODE_KEY) => call(s, 'POST', '/v0/nodes', body, { authorization: `Bearer ${key}` });
const heartbeat = (s: LlmlbServer, token: string, body: unknown = {}) => call(s, 'POST', '/v0/nodes/heartbeat', body, { 'x-node-token': token });

describe('registration and approval', () => {
  it('a registered node is pending and never routed; approved, it is; its details are listed', async () => {
    const u = await upstream({ name: 'gpu-7' });
    const s = await llmlb();
    const registered = await registerNode(s, { name: 'gpu-7', base_url: u.url(), runtime: { type: 'ollama', version: '0.5.7' }, gpus: [GPU], labels: { zone: 'a' } });
    expect(registered.status).toBe(201);
    const { endpoint, node, node_token: token, created } = registered.body;
    expect(created).toBe(true);
    expect(endpoint).toMatchObject({ name: 'gpu-7', base_url: u.url(), admin_state: 'pending_approval', status: 'pending' });
    expect(node).toStrictEqual({
      endpoint_id: endpoint.id,
      runtime_type: 'ollama',
      runtime_version: '0.5.7',
      gpus: [GPU],
      labels: { zone: 'a' },
      registered_at: endpoint.registered_at,
      updated_at: endpoint.registered_at,
    });
    expect(token).toMatch(/^llmlb_node_[A-Za-z0-9_-]{43}$/);
    await s.router.checker.idle();
    expect((await s.admin('GET', `/v0/endpoints/${endpoint.id}`)).body).toMatchObject({ status: 'online', admin_state: 'pending_approval' });

    const listed = await s.admin('GET', '/v0/nodes?admin_state=pending_approval');
    expect(listed.body).toStrictEqual({ total: 1, nodes: [{ ...node, name: 'gpu-7', base_url: u.url(), status: 'online', admin_state: 'pending_approval', last_error: null, last_heartbeat_at: null }] });
    expect(JSON.stringify(listed.body)).not.toMatch(/token|sha256/);
    expect((await s.admin('GET', `/v0/nodes/${endpoint.id}`)).body).toStrictEqual(listed.body.nodes[0]);
    expect((await s.admin('GET', '/v0/nodes?admin_state=enabled')).body).toStrictEqual({ nodes: [], total: 0 });

    // Online, but pending: no request reaches it.
    expect((await s.infer('/v1/chat/completions', chat)).status).toBe(503);
    expect(u.requestsTo('/v1/chat/completions')).toHaveLength(0);

    const approved = await s.admin('POST', `/v0/endpoints/${endpoint.id}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ id: endpoint.id, admin_state: 'enabled', status: 'online' });
    expect((await s.infer('/v1/chat/completions', chat)).status).toBe(200);
    expect(u.requestsTo('/v1/chat/completions')).toHaveLength(1);
    expect((await s.admin('POST', `/v0/endpoints/${endpoint.id}/approve`)).status).toBe(409);
    expect((await s.admin('POST', `/v0/endpoints/${endpoint.id}/reject`)).body.error.code).toBe('conflict');
  });

  it('refuses a server that does not answer, a base_url an admin registered, bad bodies and other roles', async () => {
    const u = await upstream({ name: 'admin-registered' });
    const s = await llmlb();
    expect((await s.admin('POST', '/v0/endpoints', { name: 'by-admin', base_url: u.url() })).status).toBe(201);
    const taken = await registerNode(s, { name: 'sneaky', base_url: `${u.url()}/v1` });
    expect(taken.status).toBe(409);
    expect(taken.body.error.details).toEqual([{ path: 'base_url', message: 'already taken' }]);

    await u.stop();
    const down = await registerNode(s, { name: 'down', base_url: 'http://127.0.0.1:9' });
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe('endpoint_offline');

    const bad = await registerNode(s, { name: 'x', base_url: 'http://127.0.0.1:9', gpus: [{ model: 'L4', memory_mb: -1 }], labels: { 'bad key': 'v' }, extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['extra', 'gpus.0.memory_mb', 'labels.bad key']);

    for (const key of [VIEWER_KEY, CLIENT_KEY]) expect((await registerNode(s, { name: 'x', base_url: 'http://127.0.0.1:9' }, key)).status).toBe(403);
    expect((await call(s, 'GET', '/v0/endpoints', undefined, { authorization: `Bearer ${NODE_KEY}` })).status).toBe(403);
    expect((await call(s, 'GET', '/v0/nodes', undefined, { authorization: `Bearer ${NODE_KEY}` })).status).toBe(403);
    expect((await s.admin('GET', '/v0/endpoints')).body.total).toBe(1);
    expect((await s.admin('GET', '/v0/nodes')).body.total).toBe(0);
  });

  it('registering again updates a pending node (name too) or an approved one (keeping its approval and name), with a new token', async () => {
    const u = await upstream({ name: 'n' });
    const s = await llmlb();
    const first = (await registerNode(s, { name: 'n-1', base_url: u.url() })).body;
    const again = await registerNode(s, { name: 'n-2', base_url: u.url(), gpus: [GPU] });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, endpoint: { id: first.endpoint.id, name: 'n-2', admin_state: 'pending_approval' }, node: { gpus: [GPU] } });
    expect(again.body.node_token).not.toBe(first.node_token);
    expect((await heartbeat(s, first.node_token)).status).toBe(401);
    expect((await heartbeat(s, again.body.node_token)).status).toBe(200);

    await s.admin('POST', `/v0/endpoints/${first.endpoint.id}/approve`);
    const approved = await registerNode(s, { name: 'n-3', base_url: u.url(), labels: { restarted: 'yes' } });
    expect(approved.body).toMatchObject({ created: false, endpoint: { name: 'n-2', admin_state: 'enabled' }, node: { labels: { restarted: 'yes' }, gpus: [] } });
    expect((await s.admin('GET', '/v0/endpoints')).body.total).toBe(1);
  });

  it('reject deletes a pending node with its details; its token is unknown from then on', async () => {
    const u = await upstream({ name: 'r' });
    const s = await llmlb();
    const { endpoint, node_token: token } = (await registerNode(s, { name: 'r', base_url: u.url() })).body;
    expect((await s.admin('POST', `/v0/endpoints/${endpoint.id}/reject`)).status).toBe(204);
    expect((await s.admin('GET', `/v0/endpoints/${endpoint.id}`)).status).toBe(404);
    expect((await s.admin('GET', `/v0/nodes/${endpoint.id}`)).status).toBe(404);
    expect((await s.admin('POST', `/v0/endpoints/${endpoint.id}/reject`)).status).toBe(404);
    expect((await heartbeat(s, token)).status).toBe(401);
  });
});

describe('heartbeats', () => {
  it('wrong or missing tokens are a 401 in the admin shape, whatever the body', async () => {
    const s = await llmlb();
    const attempts: Record<string, string>[] = [{}, { 'x-node-token': 'llmlb_node_nope' }, { authorization: `Bearer ${NODE_KEY}` }, { 'x-node-token': NODE_KEY }];
    for (const headers of attempts) {
      const res = await call(s, 'POST', '/v0/nodes/heartbeat', { active_requests: 'junk' }, headers);
      expect(res.status).toBe(401);
      expect(res.body).toStrictEqual({ error: { code: 'unauthorized', message: 'missing or unknown node token (X-Node-Token)' } });
    }
    expect((await call(s, 'GET', '/v0/nodes/heartbeat', undefined, {})).status).toBe(405);
  });

  it("a pending node's heartbeats change nothing but its last heartbeat time", async () => {
    const u = await upstream({ name: 'p' });
    const s = await llmlb();
    const { endpoint, node_token: token } = (await registerNode(s, { name: 'p', base_url: u.url() })).body;
    await s.router.checker.idle();
    const before = (await s.admin('GET', `/v0/endpoints/${endpoint.id}`)).body;
    const res = await heartbeat(s, token, { active_requests: 3, gpu_utilization: 0.5, loaded_models: ['llama3.1:8b'] });
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ endpoint_id: endpoint.id, admin_state: 'pending_approval', status: 'online' });
    expect((await s.admin('GET', `/v0/endpoints/${endpoint.id}`)).body).toStrictEqual(before);
    expect(routerInternals(s.router).load.get(endpoint.id)).toBeUndefined();
    expect((await s.admin('GET', `/v0/nodes/${endpoint.id}`)).body.last_heartbeat_at).toEqual(expect.any(String));
    expect((await heartbeat(s, token, { active_requests: -1 })).status).toBe(400);
  });

  it('after approval: load figures reach the load board, and the token rotates once, delivered in the answer', async () => {
    const u = await upstream({ name: 'q' });
    const s = await llmlb();
    const { endpoint, node_token: first } = (await registerNode(s, { name: 'q', base_url: u.url() })).body;
    await s.admin('POST', `/v0/endpoints/${endpoint.id}/approve`);

    const rotated = await heartbeat(s, first);
    expect(rotated.body).toMatchObject({ endpoint_id: endpoint.id, admin_state: 'enabled', node_token: expect.stringMatching(/^llmlb_node_/) });
    // No figure sent yet: the node stays off the load board.
    expect(routerInternals(s.router).load.get(endpoint.id)).toBeUndefined();

    // The answer was lost: the token it replaced still works, once more, and gets yet another token.
    const again = await heartbeat(s, first, { active_requests: 2, waiting_requests: 1, gpu_utilization: 0.75, loaded_models: ['llama3.1:8b'] });
    expect(routerInternals(s.router).load.get(endpoint.id)).toMatchObject({ source: 'heartbeat', running: 2, waiting: 1, gpu_utilization: 0.75, loaded_models: ['llama3.1:8b'] });
    const latest = again.body.node_token as string;
    expect(latest).toMatch(/^llmlb_node_/);
    expect((await heartbeat(s, rotated.body.node_token)).status).toBe(401);
    // The new token used: no more rotation, and the old one is gone.
    expect((await heartbeat(s, latest)).body).not.toHaveProperty('node_token');
    expect((await heartbeat(s, first)).status).toBe(401);
    expect((await heartbeat(s, latest)).status).toBe(200);
  });
});

describe('two routers on one database', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('a node registered and approved on one is known, and rotates, on the other after the change feed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmlb-nodes-'));
    dirs.push(dir);
    const filename = join(dir, 'llmlb.db');
    const u = await upstream({ name: 'shared' });
    const a = await llmlb({ storage: sqliteStorage({ filename }), checker: false });
    const b = await llmlb({ storage: sqliteStorage({ filename }), checker: false });
    const { endpoint, node_token: token } = (await registerNode(a, { name: 'shared', base_url: u.url() })).body;
    expect((await heartbeat(b, token)).status).toBe(401);
    await routerInternals(b.router).store.catchUp();
    expect((await heartbeat(b, token)).body).toMatchObject({ admin_state: 'pending_approval' });

    await a.admin('POST', `/v0/endpoints/${endpoint.id}/approve`);
    await routerInternals(b.router).store.catchUp();
    const rotated = await heartbeat(b, token);
    expect(rotated.body).toMatchObject({ admin_state: 'enabled', node_token: expect.any(String) });
    await routerInternals(a.router).store.catchUp();
    expect((await heartbeat(a, rotated.body.node_token)).status).toBe(200);

    await a.admin('DELETE', `/v0/endpoints/${endpoint.id}`);
    await routerInternals(b.router).store.catchUp();
    expect((await heartbeat(b, rotated.body.node_token)).status).toBe(401);
  });
});
