/**
 * `runServe` and `runCli` in-process: secret handling, keys, graceful stop with in-flight
 * requests, the grace period, signals, and start-up failures. Real HTTP on 127.0.0.1.
 */
import { EventEmitter } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ServeConfig, parseCliConfig } from '../../src/cli/config.js';
import { runCli } from '../../src/cli/main.js';
import { type ServeHandle, runServe, secretFileFor } from '../../src/cli/serve.js';
import { type FakeUpstream, json, startFakeUpstream } from '../helpers/fake-upstream.js';

const ADMIN_KEY = 'unit-admin-key-0123456789';
const UPSTREAM_KEY = 'sk-upstream-unit-test-key-42';

/** Collects written text; `waitFor` resolves when the text matches. */
function sink() {
  let text = '';
  const waiters = new Set<() => void>();
  return {
    write(chunk: string) {
      text += chunk;
      for (const wake of waiters) wake();
      return true;
    },
    get text() {
      return text;
    },
    waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = text.match(pattern);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${pattern} in:\n${text}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function config(argv: string[], env: Record<string, string> = {}): ServeConfig {
  const parsed = parseCliConfig(['serve', '--port', '0', ...argv], env);
  if (parsed.command !== 'serve') throw new Error('expected serve');
  return parsed.config;
}

let dir: string;
const handles: ServeHandle[] = [];
const upstreams: FakeUpstream[] = [];
const agents: Agent[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmlb-cli-serve-'));
});

afterEach(async () => {
  await Promise.allSettled(handles.splice(0).map((h) => h.stop()));
  await Promise.allSettled(upstreams.splice(0).map((u) => u.stop()));
  await Promise.allSettled(agents.splice(0).map((a) => a.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function start(cfg: ServeConfig) {
  const stdout = sink();
  const stderr = sink();
  const handle = await runServe(cfg, { stdout, stderr });
  handles.push(handle);
  return { handle, stdout, stderr };
}

function api(handle: ServeHandle, key = ADMIN_KEY, agent?: Agent) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${handle.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      ...(agent ? { dispatcher: agent } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
  };
}

async function upstream() {
  const u = await startFakeUpstream({ apiKey: UPSTREAM_KEY, models: ['llama3.1:8b'] });
  upstreams.push(u);
  return u;
}

describe('runServe', () => {
  it('serves the admin API, prints one listening line and logs JSON lines', async () => {
    const { handle, stdout, stderr } = await start(config(['--memory'], { LLMLB_ADMIN_KEY: ADMIN_KEY }));
    expect(handle.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(handle.port).toBeGreaterThan(0);
    const lines = stdout.text.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('llmlb listening on '))).toEqual([`llmlb listening on ${handle.url}`]);
    for (const line of lines.filter((l) => !l.startsWith('llmlb listening on '))) {
      expect(JSON.parse(line)).toMatchObject({ level: expect.any(Number), time: expect.any(Number), msg: expect.any(String) });
    }
    expect(stderr.text).toBe('');
    expect(handle.generatedAdminKey).toBeUndefined();
    expect(handle.secretSource).toBe('memory');

    expect((await api(handle)('GET', '/v0/endpoints')).status).toBe(200);
    expect((await api(handle, 'wrong-key-0123456789abcdef')('GET', '/v0/endpoints')).status).toBe(401);
  });

  it('roles from LLMLB_API_KEYS apply', async () => {
    const viewer = 'unit-viewer-key-0123456789';
    const { handle } = await start(
      config(['--memory'], { LLMLB_API_KEYS: `${ADMIN_KEY}:admin,${viewer}:viewer` }),
    );
    expect((await api(handle, viewer)('GET', '/v0/endpoints')).status).toBe(200);
    expect((await api(handle, viewer)('POST', '/v0/endpoints', { name: 'x', base_url: 'http://127.0.0.1:1' })).status).toBe(403);
  });

  it('generates an admin key when none is configured and tells how to use it', async () => {
    const { handle, stderr, stdout } = await start(config(['--memory']));
    const key = handle.generatedAdminKey;
    expect(key).toMatch(/^llmlb_[A-Za-z0-9_-]{43}$/);
    expect(stderr.text).toContain(key);
    expect(stderr.text).toContain(`curl -H "Authorization: Bearer ${key}" ${handle.url}/v0/endpoints`);
    expect(stdout.text).not.toContain(key!);
    expect((await api(handle, key)('GET', '/v0/endpoints')).status).toBe(200);
  });

  it('creates <db>.secret with mode 0600 and reuses it, so stored keys still decrypt', async () => {
    const db = join(dir, 'llmlb.db');
    const up = await upstream();
    const first = await start(config(['--db', db], { LLMLB_ADMIN_KEY: ADMIN_KEY }));
    expect(first.handle.secretSource).toBe('file');
    const secretFile = secretFileFor(db);
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    const secret = readFileSync(secretFile, 'utf8');
    expect(secret.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const created = await api(first.handle)('POST', '/v0/endpoints', { name: 'up', base_url: up.url(), api_key: UPSTREAM_KEY });
    expect(created.status).toBe(201);
    await first.handle.stop();

    const second = await start(config(['--db', db], { LLMLB_ADMIN_KEY: ADMIN_KEY }));
    expect(readFileSync(secretFile, 'utf8')).toBe(secret);
    const tested = await api(second.handle)('POST', `/v0/endpoints/${String(created.body?.id)}/test`);
    expect(tested.body).toMatchObject({ success: true });
    for (const text of [first.stdout.text, first.stderr.text, second.stdout.text, second.stderr.text]) {
      expect(text).not.toContain(UPSTREAM_KEY);
      expect(text).not.toContain(ADMIN_KEY);
      expect(text).not.toContain(secret.trim());
    }
  });

  it('LLMLB_SECRET wins: no secret file is written', async () => {
    const db = join(dir, 'llmlb.db');
    const { handle } = await start(config(['--db', db], { LLMLB_ADMIN_KEY: ADMIN_KEY, LLMLB_SECRET: 'env-secret-0123456789' }));
    expect(handle.secretSource).toBe('env');
    expect(existsSync(secretFileFor(db))).toBe(false);
  });

  it('warns about a secret file other users can read, and rejects a too-short one', async () => {
    const db = join(dir, 'llmlb.db');
    writeFileSync(secretFileFor(db), 'a-kept-secret-0123456789\n');
    chmodSync(secretFileFor(db), 0o644);
    const { handle, stdout } = await start(config(['--db', db], { LLMLB_ADMIN_KEY: ADMIN_KEY }));
    expect(stdout.text).toMatch(/"level":40.*readable by other users/);
    expect(stdout.text).not.toContain('a-kept-secret');
    await handle.stop();

    writeFileSync(secretFileFor(db), 'short\n');
    await expect(runServe(config(['--db', db], { LLMLB_ADMIN_KEY: ADMIN_KEY }), { stdout: sink(), stderr: sink() })).rejects.toThrow(
      /secret file .* holds fewer than 16 characters/,
    );
  });

  it('fails clearly when the database directory does not exist', async () => {
    const db = join(dir, 'missing', 'llmlb.db');
    await expect(runServe(config(['--db', db], { LLMLB_ADMIN_KEY: ADMIN_KEY }), { stdout: sink(), stderr: sink() })).rejects.toThrow(
      /cannot create the secret file .*: its directory does not exist/,
    );
  });

  it('fails clearly when stored keys cannot be decrypted with the secret', async () => {
    const db = join(dir, 'llmlb.db');
    const up = await upstream();
    const first = await start(config(['--db', db], { LLMLB_ADMIN_KEY: ADMIN_KEY }));
    await api(first.handle)('POST', '/v0/endpoints', { name: 'up', base_url: up.url(), api_key: UPSTREAM_KEY });
    await first.handle.stop();
    const attempt = runServe(config(['--db', db], { LLMLB_ADMIN_KEY: ADMIN_KEY, LLMLB_SECRET: 'another-secret-0123456789' }), {
      stdout: sink(),
      stderr: sink(),
    });
    await expect(attempt).rejects.toThrow(/^cannot start: cannot decrypt a stored api_key/);
  });

  it('fails clearly when the port is taken, leaving nothing running', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const parsed = parseCliConfig(['serve', '--memory', '--port', String(port)], { LLMLB_ADMIN_KEY: ADMIN_KEY });
      if (parsed.command !== 'serve') throw new Error('expected serve');
      await expect(runServe(parsed.config, { stdout: sink(), stderr: sink() })).rejects.toThrow(
        `cannot listen on 127.0.0.1:${port}: the address is already in use`,
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

describe('graceful stop', () => {
  /** A started server with one online endpoint whose `/v1/models` can be held open. */
  async function withHeldUpstream(graceMs: number) {
    const up = await upstream();
    const { handle, stdout } = await start(config(['--memory', '--grace-ms', String(graceMs)], { LLMLB_ADMIN_KEY: ADMIN_KEY }));
    const created = await api(handle)('POST', '/v0/endpoints', { name: 'up', base_url: up.url(), api_key: UPSTREAM_KEY });
    expect(created.status).toBe(201);
    await handle.router.checker.idle();
    const entered = deferred();
    const release = deferred();
    up.routes.set('GET /v1/models', async (_req, res) => {
      entered.resolve();
      await release.promise;
      json(res, 200, { object: 'list', data: [{ id: 'llama3.1:8b', object: 'model' }] });
    });
    upstreams.push(up);
    return { handle, stdout, id: String(created.body?.id), entered, release };
  }

  it('stops accepting, lets in-flight requests finish, then stops the router', async () => {
    const { handle, id, entered, release } = await withHeldUpstream(60_000);
    const keepAlive = new Agent({ keepAliveTimeout: 60_000 });
    agents.push(keepAlive);
    // A keep-alive connection that is idle must not hold the stop up.
    expect((await api(handle, ADMIN_KEY, keepAlive)('GET', '/v0/endpoints')).status).toBe(200);

    const inFlight = api(handle, ADMIN_KEY, keepAlive)('POST', `/v0/endpoints/${id}/test`);
    await entered.promise;
    let stopped = false;
    const stopping = handle.stop().then(() => (stopped = true));

    const fresh = new Agent();
    agents.push(fresh);
    await expect(fetch(`${handle.url}/v0/endpoints`, { dispatcher: fresh })).rejects.toThrow();
    expect(stopped).toBe(false);
    expect(handle.router.state).toBe('started');

    release.resolve();
    const answer = await inFlight;
    const answeredAt = performance.now();
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ success: true });
    await stopping;
    // The keep-alive connection is closed as soon as its last request is done, not when the
    // client or the server keep-alive timeout (~5 s) would close it.
    expect(performance.now() - answeredAt).toBeLessThan(2_000);
    expect(handle.router.state).toBe('stopped');
    await handle.stop(); // idempotent
  });

  it('cuts connections still open when the grace period is over', async () => {
    const { handle, stdout, id, entered, release } = await withHeldUpstream(50);
    try {
      const outcome = api(handle)('POST', `/v0/endpoints/${id}/test`).then(
        () => 'answered',
        (err: unknown) => err,
      );
      await entered.promise;
      await handle.stop();
      expect(await outcome).toBeInstanceOf(Error);
      expect(stdout.text).toMatch(/"level":40.*grace period over/);
      expect(handle.router.state).toBe('stopped');
    } finally {
      release.resolve();
    }
  });
});

describe('runCli', () => {
  it('prints help and the version with exit 0; no command and unknown flags exit 2', async () => {
    const out = sink();
    const err = sink();
    expect(await runCli(['--help'], {}, { stdout: out, stderr: err })).toBe(0);
    expect(out.text).toContain('Usage: llmlb <command> [options]');
    expect(await runCli(['--version'], {}, { stdout: out, stderr: err })).toBe(0);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(out.text.endsWith(`${pkg.version}\n`)).toBe(true);
    expect(err.text).toBe('');

    expect(await runCli([], {}, { stdout: out, stderr: err })).toBe(2);
    expect(err.text).toContain('llmlb: missing command');
    expect(err.text).toContain('Usage: llmlb');
    const bad = sink();
    expect(await runCli(['serve', '--nope'], {}, { stdout: out, stderr: bad })).toBe(2);
    expect(bad.text).toBe("llmlb: unknown option --nope\nRun 'llmlb --help' for usage.\n");
  });

  it('exits 1 with a one-line message when the server cannot start', async () => {
    const err = sink();
    const code = await runCli(['serve', '--db', join(dir, 'missing', 'x.db')], { LLMLB_ADMIN_KEY: ADMIN_KEY }, {
      stdout: sink(),
      stderr: err,
      signals: new EventEmitter(),
    });
    expect(code).toBe(1);
    expect(err.text).toMatch(/^llmlb: cannot create the secret file .*\n$/);
  });

  it('stops gracefully on SIGTERM with exit 0; a second signal forces exit 1', async () => {
    const signals = new EventEmitter();
    const listening = deferred<ServeHandle>();
    const forced: number[] = [];
    const out = sink();
    const done = runCli(['serve', '--memory', '--port', '0'], { LLMLB_ADMIN_KEY: ADMIN_KEY }, {
      stdout: out,
      stderr: sink(),
      signals,
      forceExit: (code) => void forced.push(code),
      onListening: listening.resolve,
    });
    const handle = await listening.promise;
    handles.push(handle);
    expect(signals.listenerCount('SIGINT')).toBe(1);
    signals.emit('SIGTERM', 'SIGTERM');
    signals.emit('SIGINT', 'SIGINT');
    expect(forced).toEqual([1]);
    expect(await done).toBe(0);
    expect(handle.router.state).toBe('stopped');
    expect(out.text).toMatch(/"signal":"SIGTERM","msg":"stop signal received"/);
    expect(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('a signal during start-up stops the server as soon as it is up', async () => {
    const signals = new EventEmitter();
    const done = runCli(['serve', '--memory', '--port', '0'], { LLMLB_ADMIN_KEY: ADMIN_KEY }, {
      stdout: sink(),
      stderr: sink(),
      signals,
      onListening: (handle) => void handles.push(handle),
    });
    signals.emit('SIGINT', 'SIGINT');
    expect(await done).toBe(0);
  });
});
