/**
 * The dashboard's files: built into `dist/dashboard/` at package build time (see
 * `scripts/build-dashboard.mjs`), read once, kept in memory and served with a strict content
 * security policy — no inline script, no other origin.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A response for one dashboard file. */
export interface DashboardAsset {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** Finds `dist/dashboard` from this module: the package root is the nearest folder with llmlb's package.json. */
function findDashboardDir(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'llmlb') {
      const built = join(dir, 'dist', 'dashboard');
      return existsSync(built) ? built : null;
    }
    dir = dirname(dir);
  }
  return null;
}

let root: string | null | undefined;
const cache = new Map<string, Promise<DashboardAsset>>();

async function load(file: string): Promise<DashboardAsset> {
  root ??= findDashboardDir();
  const type = TYPES[extname(file)];
  if (root === null || type === undefined || !/^[\w.-]+$/.test(file)) return notFound(file);
  try {
    const body = await readFile(join(root, file));
    const caching = file === 'index.html' ? 'no-cache' : 'public, max-age=300';
    return { status: 200, headers: { 'content-type': type, 'content-length': String(body.length), 'cache-control': caching, ...SECURITY_HEADERS }, body };
  } catch {
    return notFound(file);
  }
}

function notFound(file: string): DashboardAsset {
  const body = root === null ? 'the dashboard is not built: run `npm run build`\n' : `no dashboard file ${JSON.stringify(file)}\n`;
  return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }, body };
}

/**
 * The response for a dashboard path below `/dashboard/` (`''` is the app's page).
 *
 * @example
 * const asset = await dashboardAsset('app.js');
 * res.writeHead(asset.status, asset.headers).end(asset.body);
 */
export function dashboardAsset(path: string): Promise<DashboardAsset> {
  const file = path === '' ? 'index.html' : path;
  let asset = cache.get(file);
  if (!asset) {
    asset = load(file);
    if (TYPES[extname(file)] !== undefined && cache.size < 32) cache.set(file, asset);
  }
  return asset;
}
