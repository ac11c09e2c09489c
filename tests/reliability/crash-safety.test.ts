/**
 * Crash safety: `kill -9` the standalone server while writers register and update endpoints,
 * then reopen the database: it passes `PRAGMA integrity_check`, and every write acknowledged
 * with a 2xx before the kill is there.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const ADMIN = 'crash-admin-key-0123456789';
const children: ChildProcess[] = [];
let dir: string | undefined;

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function serve(db: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(root, 'dist', 'cli.js'), 'serve', '--port', '0', '--db', db, '--log-level', 'error'], {
    env: { ...process.env, LLMLB_ADMIN_KEY: ADMIN, LLMLB_SECRET: 'crash-test-secret-0123456789' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = /llmlb listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
  });
  return { child, url };
}

describe('crash safety', () => {
  it('keeps every acknowledged write and an intact database across kill -9', async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmlb-crash-'));
    const db = join(dir, 'llmlb.db');
    const { child, url } = await serve(db);
    const call = (method: string, path: string, body: unknown) =>
      fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    /** Per endpoint: the last notes version acknowledged, and the highest one sent. */
    const acked = new Map<string, { name: string; notesAcked: number; notesSent: number }>();
    let acknowledgedWrites = 0;
    let killed = false;
    const writer = async (w: number) => {
      for (let i = 0; !killed; i++) {
        try {
          const created = await call('POST', '/v0/endpoints', {
            name: `w${w}-e${i}`,
            base_url: `http://127.0.0.1:9/w${w}/e${i}`,
            api_key: `sk-crash-${w}-${i}`,
          });
          if (created.status !== 201) throw new Error(`create answered ${created.status}`);
          const { id } = (await created.json()) as { id: string };
          const entry = { name: `w${w}-e${i}`, notesAcked: 0, notesSent: 0 };
          acked.set(id, entry);
          acknowledgedWrites++;
          for (let n = 1; n <= 3 && !killed; n++) {
            entry.notesSent = n;
            const updated = await call('PUT', `/v0/endpoints/${id}`, { notes: `v${n}` });
            if (updated.status !== 200) throw new Error(`update answered ${updated.status}`);
            entry.notesAcked = n;
            acknowledgedWrites++;
          }
        } catch (err) {
          if (killed) return; // the connection died with the server
          throw err;
        }
      }
    };
    const writers = Promise.all([0, 1, 2, 3].map(writer));
    // Kill in the middle of the stream of writes.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (acknowledgedWrites >= 150) {
          clearInterval(poll);
          resolve();
        }
      }, 2);
    });
    killed = true;
    child.kill('SIGKILL');
    await writers;
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));

    const sqlite = new Database(db);
    try {
      expect(sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
      const rows = new Map(
        (sqlite.prepare('SELECT id, name, notes, api_key_encrypted FROM endpoints').all() as Array<{ id: string; name: string; notes: string | null; api_key_encrypted: string }>).map(
          (r) => [r.id, r],
        ),
      );
      expect(acked.size).toBeGreaterThan(20);
      for (const [id, entry] of acked) {
        const row = rows.get(id);
        expect(row, entry.name).toBeDefined();
        expect(row!.name).toBe(entry.name);
        const version = row!.notes === null ? 0 : Number(row!.notes.slice(1));
        expect(version, entry.name).toBeGreaterThanOrEqual(entry.notesAcked);
        expect(version, entry.name).toBeLessThanOrEqual(entry.notesSent);
        expect(row!.api_key_encrypted.startsWith('v1:')).toBe(true);
      }
    } finally {
      sqlite.close();
    }

    // And the server itself starts again on the file, with every endpoint listed.
    const again = await serve(db);
    const list = await fetch(`${again.url}/v0/endpoints`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(((await list.json()) as { total: number }).total).toBeGreaterThanOrEqual(acked.size);
  }, 60_000);
});
