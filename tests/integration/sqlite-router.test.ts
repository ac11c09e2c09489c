/**
 * The router on a real SQLite file: credentials never reach the disk in plaintext, and
 * everything survives a restart.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRouter } from '../../src/router.js';
import { sqliteStorage } from '../../src/storage/sqlite/index.js';

const SECRET = 'integration-secret-0123456789';
const API_KEY = 'sk-plaintext-must-never-hit-disk-7f3a9c';
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmlb-sqlite-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function open(filename: string) {
  return createRouter({ storage: sqliteStorage({ filename }), secret: SECRET, checker: false });
}

describe('router on SQLite', () => {
  it('never writes an api key in plaintext (database, WAL or journal)', async () => {
    const filename = join(dir, 'llmlb.db');
    const router = open(filename);
    await router.start();
    const e = await router.endpoints.create({ name: 'a', base_url: 'http://127.0.0.1:1', api_key: API_KEY });
    await router.endpoints.update(e.id, { api_key: `${API_KEY}-rotated` });
    // Look while the database is open (WAL not yet checkpointed) and after closing.
    const scan = () => {
      for (const file of readdirSync(dir)) {
        const bytes = readFileSync(join(dir, file));
        expect(bytes.includes(Buffer.from(API_KEY)), file).toBe(false);
        expect(bytes.includes(Buffer.from(API_KEY, 'utf16le')), file).toBe(false);
      }
    };
    scan();
    await router.stop();
    scan();
  });

  it('keeps endpoints, settings and encrypted keys across restarts', async () => {
    const filename = join(dir, 'llmlb.db');
    const first = open(filename);
    await first.start();
    const e = await first.endpoints.create({ name: 'a', base_url: 'http://127.0.0.1:1', api_key: API_KEY, notes: 'rack 3' });
    await first.endpoints.update(e.id, { health_check_interval_secs: 45 });
    await first.stop();

    const second = open(filename);
    await second.start();
    expect(await second.endpoints.get(e.id)).toMatchObject({
      name: 'a',
      notes: 'rack 3',
      health_check_interval_secs: 45,
      has_api_key: true,
      status: 'pending',
    });
    await second.stop();

    const wrongSecret = createRouter({ storage: sqliteStorage({ filename }), secret: 'not-the-same-secret-at-all' });
    await expect(wrongSecret.start()).rejects.toThrow(/secret/);
    await wrongSecret.stop();
  });
});
