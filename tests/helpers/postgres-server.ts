/**
 * Throwaway PostgreSQL servers for the tests: `initdb` into a temp directory and `pg_ctl start`
 * on a free port bound to 127.0.0.1, run as the `postgres` user when the tests run as root (the
 * server refuses to run as root). Debian's binaries live in `/usr/lib/postgresql/<version>/bin`;
 * `PG_BIN` overrides the directory.
 *
 * The vitest global setup starts one server for every PostgreSQL test file (each creates its own
 * database with {@link createDatabase}); a test that stops the server mid-run starts its own.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** A running throwaway server. */
export interface PostgresServer {
  /** Connection string of the `postgres` database (superuser `postgres`, no password). */
  readonly url: string;
  readonly port: number;
  /** Stops the server (fast shutdown: open connections are terminated); data is kept. */
  stop(): void;
  /** Starts a stopped server again on the same port and data. */
  restart(): void;
  /** Stops the server and deletes its data. */
  destroy(): void;
}

/** The directory of PostgreSQL's server binaries, or `undefined` when none is installed. */
export function postgresBinDir(): string | undefined {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb')));
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  return newest === undefined ? undefined : join(root, newest, 'bin');
}

/** A port that was free a moment ago on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Runs a server binary, as `postgres` when we are root. */
function run(bin: string, tool: string, args: string[]): void {
  const asRoot = userInfo().uid === 0;
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args];
  execFileSync(file, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Creates and starts a server. Durability is switched off (`fsync = off`): the data is thrown away.
 *
 * @example
 * const server = await startPostgresServer();
 * const url = await createDatabase(server.url);
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error('PostgreSQL is not installed (apt-get install -y postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'llmlb-pg-'));
  if (userInfo().uid === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  run(bin, 'initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C']);
  const port = await freePort();
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c full_page_writes=off -c max_connections=200`;
  const start = (): void => run(bin, 'pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', 'start']);
  const stop = (): void => run(bin, 'pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  start();
  let running = true;
  const halt = (): void => {
    if (running) stop();
    running = false;
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop: halt,
    restart() {
      if (!running) start();
      running = true;
    },
    destroy() {
      halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Creates a new, empty database on the server of `serverUrl` and returns its connection string.
 *
 * @example
 * const url = await createDatabase(inject('postgresUrl'));
 */
export async function createDatabase(serverUrl: string): Promise<string> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  const name = `llmlb_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
