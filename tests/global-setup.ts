/**
 * Runs once before any test file:
 *
 * - builds `dist/` (the package and end-to-end tests exercise the built output — CLI process,
 *   packed tarball — and building once avoids parallel builds racing on the same directory);
 * - starts a throwaway PostgreSQL server when PostgreSQL is installed, for the PostgreSQL test
 *   files (each creates its own database); without it those files skip, unless
 *   `LLMLB_REQUIRE_POSTGRES=1` (set by `.ci/run`) makes a missing server an error.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { postgresBinDir, startPostgresServer } from './helpers/postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of the shared test server's `postgres` database, or null without PostgreSQL. */
    postgresUrl: string | null;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const root = join(import.meta.dirname, '..');
  execFileSync(process.execPath, [join(root, 'node_modules', 'tsup', 'dist', 'cli-default.js'), '--silent'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (postgresBinDir() === undefined) {
    if (process.env.LLMLB_REQUIRE_POSTGRES === '1') throw new Error('LLMLB_REQUIRE_POSTGRES=1 but PostgreSQL is not installed');
    project.provide('postgresUrl', null);
    return () => undefined;
  }
  const server = await startPostgresServer();
  project.provide('postgresUrl', server.url);
  return () => server.destroy();
}
