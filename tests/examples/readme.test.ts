/**
 * The README's "Embedded, no HTTP" snippet, run as a reader would: the TypeScript block taken
 * from README.md as it stands, compiled to JavaScript, and run twice in a row in one folder
 * against a real fake upstream on 127.0.0.1 (its URL replaces the Ollama default the snippet
 * names; nothing else is changed). Both runs must print the endpoint `select` chose.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.js';
import { killStrays, ROOT, spawnNode, stopChild } from '../helpers/processes.js';

const SNIPPET_URL = 'http://127.0.0.1:11434';

/** The first ```ts block after `heading` in README.md. */
function readmeBlock(heading: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const from = readme.indexOf(heading);
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(from));
  if (from === -1 || !block?.[1]) throw new Error(`no TypeScript block after ${JSON.stringify(heading)} in README.md`);
  return block[1];
}

let upstream: FakeUpstream;
let dir: string;
let script: string;

beforeAll(async () => {
  upstream = await startFakeUpstream({ name: 'readme-upstream', models: ['llama3.1:8b'] });
  const source = readmeBlock('**Embedded, no HTTP**');
  expect(source).toContain(SNIPPET_URL);
  const { code } = transformSync(source.replace(SNIPPET_URL, upstream.url()), { loader: 'ts', format: 'esm' });
  // Inside the repository, so `import … from 'llmlb'` resolves to this package (self-reference).
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  dir = mkdtempSync(join(ROOT, '.tmp', 'readme-'));
  script = join(dir, 'embedded.mjs');
  writeFileSync(script, code);
});

afterEach(killStrays);
afterAll(async () => {
  await upstream?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README embedded snippet', () => {
  it('runs verbatim twice in a row on the same database, choosing gpu-1 both times', async () => {
    for (const run of [1, 2]) {
      const proc = spawnNode([script], { cwd: dir, env: { ADMIN_KEY: 'readme-admin-key-0123456789abcdef' } });
      // The router keeps running (the snippet says so): read its answer, then stop it.
      await proc.waitFor(/^gpu-1$/m);
      expect(proc.stderr(), `run ${run}`).toBe('');
      await stopChild(proc.child);
    }
    // The first run saw the endpoint come online; the second found it stored and online already.
    expect(upstream.requests.filter((r) => r.path === '/v1/models').length).toBeGreaterThanOrEqual(2);
  });
});
