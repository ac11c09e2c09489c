/**
 * Builds the web dashboard into `dist/dashboard/` with esbuild: `src/dashboard/ui/main.tsx`
 * (Preact and uPlot bundled in, minified) to `app.js` and `app.css`, and the page itself. Run by
 * tsup after each build (`onSuccess` in tsup.config.ts), so the package always ships it.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Bundles the dashboard. */
export async function buildDashboard(): Promise<void> {
  const outdir = `${root}dist/dashboard`;
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: { app: `${root}src/dashboard/ui/main.tsx` },
    outdir,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'linked',
    logLevel: 'warning',
  });
  copyFileSync(`${root}src/dashboard/ui/index.html`, `${outdir}/index.html`);
}
