/**
 * The `llmlb` executable as a real process: the built `dist/cli.js` (built once by the global
 * test setup) started with `serve`, driven over HTTP on 127.0.0.1, stopped with signals and
 * restarted on the same database.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.js';
import { CLI, CLI_LISTENING, killStrays, ROOT, spawnNode, spawnServer, stopChild } from '../helpers/processes.js';

const ADMIN_KEY = 'e2e-admin-key-0123456789abcdef';
const UPSTREAM_KEY = 'sk-e2e-upstream-key-must-not-leak-91f3';

let dir: string;
let upstream: FakeUpstream;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'llmlb-e2e-'));
  upstream = await startFakeUpstream({ apiKey: UPSTREAM_KEY, models: ['llama3.1:8b', 'nomic-embed-text'] });
}, 120_000);

// Never leave a server behind, whatever the test did.
afterEach(killStrays);

afterAll(async () => {
  await upstream?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `llmlb ...args`, in the test's directory, with `env` on top of an environment without LLMLB_* variables. */
function run(args: string[], env: Record<string, string> = {}) {
  return spawnNode([CLI, ...args], { cwd: dir, env });
}

/** `llmlb serve --port 0 ...args`, once it listens. */
function serve(args: string[], env: Record<string, string>) {
  return spawnServer([CLI, 'serve', '--port', '0', ...args], { cwd: dir, env });
}

async function call(url: string, key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as Record<string, unknown> | null };
}

/** Every stdout line but the listening line is a pino-shaped JSON log line. */
function expectJsonLogs(stdout: string): void {
  const lines = stdout.split('\n').filter((line) => line !== '');
  expect(lines.filter((line) => CLI_LISTENING.test(line))).toHaveLength(1);
  for (const line of lines.filter((l) => !CLI_LISTENING.test(l))) {
    const record = JSON.parse(line) as Record<string, unknown>;
    expect([20, 30, 40, 50]).toContain(record.level);
    expect(typeof record.time).toBe('number');
    expect(typeof record.msg).toBe('string');
  }
}

describe('llmlb CLI (built, as a process)', () => {
  it('serves, stops on SIGTERM with exit 0, and keeps endpoints and decryptable keys across a restart', async () => {
    const db = join(dir, 'llmlb.db');
    const env = { LLMLB_ADMIN_KEY: ADMIN_KEY };
    const first = await serve(['--db', db], env);

    const created = await call(first.url, ADMIN_KEY, 'POST', '/v0/endpoints', {
      name: 'fake-gpu',
      base_url: upstream.url(),
      api_key: UPSTREAM_KEY,
    });
    expect(created.status).toBe(201);
    const id = String(created.body?.id);
    expect(created.body).not.toHaveProperty('api_key');

    const tested = await call(first.url, ADMIN_KEY, 'POST', `/v0/endpoints/${id}/test`);
    expect(tested.status).toBe(200);
    expect(tested.body).toMatchObject({ success: true, latency_ms: expect.any(Number) });
    expect((await call(first.url, ADMIN_KEY, 'GET', `/v0/endpoints/${id}`)).body).toMatchObject({ status: 'online' });
    const listed = await call(first.url, ADMIN_KEY, 'GET', '/v0/endpoints');
    expect(listed.body).toMatchObject({ total: 1, endpoints: [{ id, name: 'fake-gpu', status: 'online' }] });

    expect(await stopChild(first.child, 'SIGTERM')).toEqual({ code: 0, signal: null });
    expect(statSync(`${db}.secret`).mode & 0o777).toBe(0o600);
    const secret = readFileSync(`${db}.secret`, 'utf8').trim();

    const authorizedBefore = upstream.requests.filter((r) => r.headers.authorization === `Bearer ${UPSTREAM_KEY}`).length;
    const second = await serve(['--db', db], env);
    const again = await call(second.url, ADMIN_KEY, 'GET', '/v0/endpoints');
    expect(again.body).toMatchObject({ total: 1, endpoints: [{ id, name: 'fake-gpu' }] });
    const retested = await call(second.url, ADMIN_KEY, 'POST', `/v0/endpoints/${id}/test`);
    expect(retested.body).toMatchObject({ success: true });
    // The upstream saw the decrypted key again after the restart.
    expect(upstream.requests.filter((r) => r.headers.authorization === `Bearer ${UPSTREAM_KEY}`).length).toBeGreaterThan(
      authorizedBefore,
    );
    expect(await stopChild(second.child, 'SIGTERM')).toEqual({ code: 0, signal: null });

    for (const proc of [first, second]) {
      expectJsonLogs(proc.stdout());
      for (const line of `${proc.stdout()}\n${proc.stderr()}`.split('\n')) {
        expect(line).not.toContain(UPSTREAM_KEY);
        expect(line).not.toContain(ADMIN_KEY);
        expect(line).not.toContain(secret);
      }
    }
  });

  it('without configured keys, prints a generated admin key that works; SIGINT stops it with exit 0', async () => {
    const server = await serve(['--memory'], {});
    const [, key] = await server.waitFor(/Authorization: Bearer (llmlb_[A-Za-z0-9_-]{43})"/, 'stderr');
    expect(server.stderr()).toContain(`curl -H "Authorization: Bearer ${key!}" ${server.url}/v0/endpoints`);
    expect(server.stdout()).not.toContain(key!);
    expect((await call(server.url, key!, 'GET', '/v0/endpoints')).status).toBe(200);
    expect((await call(server.url, 'not-the-key-0123456789', 'GET', '/v0/endpoints')).status).toBe(401);
    expect(await stopChild(server.child, 'SIGINT')).toEqual({ code: 0, signal: null });
    expectJsonLogs(server.stdout());
  });

  it('waits for in-flight requests on SIGTERM; a second signal exits 1 at once', async () => {
    const server = await serve(['--memory'], { LLMLB_ADMIN_KEY: ADMIN_KEY });
    // A request whose body never comes: once the server answers `100 Continue`, its handler
    // is running and the request is in flight.
    const { hostname, port } = new URL(server.url);
    const held = request({
      host: hostname,
      port,
      method: 'POST',
      path: '/v0/endpoints',
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        'content-type': 'application/json',
        'content-length': '1000',
        expect: '100-continue',
      },
    });
    held.on('error', () => {}); // the connection dies with the process
    const accepted = new Promise((resolve) => held.once('continue', resolve));
    held.flushHeaders();
    await accepted;

    server.child.kill('SIGTERM');
    await server.waitFor(/"msg":"shutting down/);
    expect(server.child.exitCode).toBeNull();
    expect(await stopChild(server.child, 'SIGTERM')).toEqual({ code: 1, signal: null });
    expect(server.stderr()).toContain('SIGTERM again: exiting without waiting for in-flight requests');
    held.destroy();
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const proc = run(['--version']);
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.stdout()).toBe(`${pkg.version}\n`);
  });

  it('--help lists the usage and exits 0; no command prints it and exits 2', async () => {
    const help = run(['--help']);
    expect(await help.exited).toEqual({ code: 0, signal: null });
    expect(help.stdout()).toContain('Usage: llmlb <command> [options]');
    expect(help.stdout()).toContain('LLMLB_API_KEYS');

    const bare = run([]);
    expect((await bare.exited).code).toBe(2);
    expect(bare.stderr()).toContain('Usage: llmlb <command> [options]');
  });

  it('an unknown flag or command, or a malformed key list, exits 2 with a one-line message', async () => {
    const flag = run(['serve', '--prot', '8080']);
    expect((await flag.exited).code).toBe(2);
    expect(flag.stderr()).toBe("llmlb: unknown option --prot\nRun 'llmlb --help' for usage.\n");
    expect(flag.stdout()).toBe('');

    const command = run(['start']);
    expect((await command.exited).code).toBe(2);

    const leaked = 'Zq9-malformed-key-material';
    const keys = run(['serve', '--memory'], { LLMLB_API_KEYS: `${leaked}:superuser` });
    expect((await keys.exited).code).toBe(2);
    expect(keys.stderr()).toMatch(/^llmlb: LLMLB_API_KEYS entry 1 is malformed/);
    expect(keys.stderr()).not.toContain(leaked);
  });

  it('the built executable starts with a shebang and is executable', () => {
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(CLI).mode & 0o111).not.toBe(0);
  });
});
