/**
 * Packs the package as npm would publish it, unpacks the tarball into a scratch project and
 * imports it from there: ESM and CommonJS, with types present. Proves the published `dist/`
 * works, not just the sources.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
let project: string;

beforeAll(() => {
  mkdirSync(join(root, '.tmp'), { recursive: true });
  // Inside the repository so the unpacked package resolves its dependencies from our node_modules.
  project = mkdtempSync(join(root, '.tmp', 'pack-'));
  // dist/ is built once by the global setup; --ignore-scripts keeps prepack from rebuilding it
  // while other test files use it.
  const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', project, '--silent'], {
    cwd: root,
    encoding: 'utf8',
  }).trim().split('\n').pop()!;
  // Its own package.json, so `llmlb` resolves to the unpacked tarball, not to this repository
  // (whose package.json would make `import 'llmlb'` a self-reference to our dist/).
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'llmlb-pack-check', private: true }));
  const target = join(project, 'node_modules', 'llmlb');
  mkdirSync(target, { recursive: true });
  execFileSync('tar', ['-xzf', join(project, packed), '-C', target, '--strip-components=1']);
}, 120_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

function run(file: string, source: string): string {
  writeFileSync(join(project, file), source);
  return execFileSync(process.execPath, [join(project, file)], { cwd: project, encoding: 'utf8' }).trim();
}

describe('packed package', () => {
  it('ships dist with types and no sources or tests', () => {
    const files = readdirSync(join(project, 'node_modules', 'llmlb'));
    expect(files).toEqual(expect.arrayContaining(['dist', 'package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']));
    expect(files).not.toContain('src');
    expect(files).not.toContain('tests');
    expect(existsSync(join(project, 'node_modules', 'llmlb', 'dist', 'index.d.ts'))).toBe(true);
  });

  it('carries every doc its README links to, and points at its repository for the rest', () => {
    const installed = join(project, 'node_modules', 'llmlb');
    const readme = readFileSync(join(installed, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(((?!https?:|#)[^)#]+)(?:#[^)]*)?\)/g)].map((m) => m[1] as string);
    const docs = links.filter((link) => link.startsWith('docs/'));
    expect(docs.length).toBeGreaterThan(3);
    for (const link of docs) expect(existsSync(join(installed, link)), link).toBe(true);
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toHaveProperty('repository.url');
    expect(manifest).toHaveProperty('homepage');
  });

  it('imports as ESM and works end to end', () => {
    const out = run(
      'esm.mjs',
      `import { createRouter, memoryStorage, LlmlbError } from 'llmlb';
       const router = createRouter({ storage: memoryStorage() });
       await router.start();
       const e = await router.endpoints.create({ name: 'a', base_url: 'http://127.0.0.1:1' });
       let code = '';
       try { await router.endpoints.get('nope'); } catch (err) { code = err instanceof LlmlbError ? err.code : 'other'; }
       await router.stop();
       console.log(e.status, code);`,
    );
    expect(out).toBe('pending not_found');
  });

  it('imports every subpath, ESM and CommonJS', () => {
    const esm = run(
      'subpaths.mjs',
      `const [n, e, f] = await Promise.all([import('llmlb/node'), import('llmlb/express'), import('llmlb/fastify')]);
       console.log(typeof n.toNodeHandler, typeof e.llmlb, typeof f.llmlbPlugin);`,
    );
    expect(esm).toBe('function function function');
    const cjs = run(
      'subpaths.cjs',
      `console.log(['llmlb/node', 'llmlb/express', 'llmlb/fastify'].map((p) => Object.keys(require(p)).sort().join('+')).join(' '));`,
    );
    expect(cjs).toBe('toNodeHandler llmlb llmlbPlugin');
  });

  it('runs the CLI from the packed bin', () => {
    const out = execFileSync(process.execPath, [join(project, 'node_modules', 'llmlb', 'dist', 'cli.js'), '--version'], {
      cwd: project,
      encoding: 'utf8',
    }).trim();
    expect(out).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('requires as CommonJS', () => {
    const out = run('cjs.cjs', `const { createRouter } = require('llmlb'); console.log(typeof createRouter);`);
    expect(out).toBe('function');
  });
});
