/** The package version, read at run time from llmlb's own package.json. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * llmlb's version from its package.json: the nearest `package.json` named `llmlb` above this
 * module. Works from the sources (`src/cli/`), the build (`dist/`) and an installed package.
 *
 * @example
 * readPackageVersion(); // '0.1.0'
 */
export function readPackageVersion(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'llmlb' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no (readable) package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error('cannot find the package.json of llmlb');
}
