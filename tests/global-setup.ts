/**
 * Builds `dist/` once before any test file runs: the package and end-to-end tests exercise the
 * built output (CLI process, packed tarball), and building once avoids parallel builds racing
 * on the same directory.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function setup(): void {
  const root = join(import.meta.dirname, '..');
  execFileSync(process.execPath, [join(root, 'node_modules', 'tsup', 'dist', 'cli-default.js'), '--silent'], {
    cwd: root,
    stdio: 'inherit',
  });
}
