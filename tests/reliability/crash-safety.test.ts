/**
 * Crash safety: `kill -9` the standalone server while writers register and update endpoints,
 * then reopen the database: it passes `PRAGMA integrity_check`, and every write acknowledged
 * with a 2xx before the kill is there.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, killStrays, type ServerProcess, spawnServer, stopChild } from '../helpers/processes.js';

const ADMIN = 'crash-admin-key-0123456789';
let dir: string | undefined;

afterEach(() => {
  killStrays();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** The standalone server on the SQLite file `db`, once it listens. */
function serve(db: string): Promise<ServerProcess> {
  return spawnServer([CLI, 'serve', '--port', '0', '--db', db, '--log-level', 'error'], {
    env: { LLMLB_ADMIN_KEY: ADMIN, LLMLB_SECRET: 'crash-test-secret-0123456789' },
  });
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
    const stopped = stopChild(child, 'SIGKILL');
    await writers;
    expect(await stopped).toEqual({ code: null, signal: 'SIGKILL' });

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
