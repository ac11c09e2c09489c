/**
 * Graceful shutdown of the standalone server: SIGTERM during active streams lets them finish,
 * refuses new requests, then exits 0 with the database closed (reopenable, intact).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.js';
import { CLI, killStrays, spawnServer, stopChild } from '../helpers/processes.js';

const ADMIN = 'graceful-admin-key-0123456789';
let dir: string | undefined;
let upstream: FakeUpstream | undefined;

afterEach(async () => {
  killStrays();
  await upstream?.stop();
  upstream = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('graceful shutdown', () => {
  it('lets active streams finish, refuses new requests, exits 0 with the database closed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmlb-graceful-'));
    const db = join(dir, 'llmlb.db');
    upstream = await startFakeUpstream();
    upstream.streamEvents = 20;
    upstream.streamGapMs = 50; // each stream lasts about a second
    const server = await spawnServer([CLI, 'serve', '--port', '0', '--db', db, '--grace-ms', '10000', '--log-level', 'info'], {
      env: { LLMLB_ADMIN_KEY: ADMIN },
    });
    const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    const created = await fetch(`${server.url}/v0/endpoints`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'u', base_url: upstream.url() }),
    });
    const { id } = (await created.json()) as { id: string };
    const test = (await (await fetch(`${server.url}/v0/endpoints/${id}/test`, { method: 'POST', headers })).json()) as { success: boolean };
    expect(test.success).toBe(true);

    // Three streams, each past its first event, then SIGTERM.
    const streams = await Promise.all(
      [0, 1, 2].map(async () => {
        const res = await fetch(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ model: 'llama3.1:8b', stream: true, messages: [] }),
        });
        const reader = res.body!.getReader();
        const first = await reader.read();
        return { reader, text: new TextDecoder().decode(first.value) };
      }),
    );
    const exit = stopChild(server.child, 'SIGTERM');
    const finished = streams.map(async ({ reader, text }) => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += new TextDecoder().decode(value);
      }
    });

    // Once it is draining, new connections are refused.
    await server.waitFor(/shutting down/);
    const refused = await new Promise<string>((resolve) => {
      const req = request(`${server.url}/v0/endpoints`, { agent: false, headers }, (res) => {
        res.resume();
        resolve(`answered ${res.statusCode}`);
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      req.end();
    });
    expect(refused).toBe('ECONNREFUSED');

    for (const text of await Promise.all(finished)) {
      expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
      expect(text.match(/"content":/g)).toHaveLength(20);
    }
    expect(await exit).toEqual({ code: 0, signal: null });

    // The database was closed cleanly: it opens, checks out and holds the endpoint.
    const sqlite = new Database(db, { readonly: true });
    try {
      expect(sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(sqlite.prepare('SELECT count(*) AS n FROM endpoints').get()).toEqual({ n: 1 });
    } finally {
      sqlite.close();
    }
  }, 30_000);
});
