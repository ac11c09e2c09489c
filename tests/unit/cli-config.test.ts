import { describe, expect, it } from 'vitest';
import {
  CliUsageError,
  MIN_API_KEY_LENGTH,
  SERVE_DEFAULTS,
  type ServeConfig,
  USAGE,
  parseCliConfig,
} from '../../src/cli/config.js';
import { hashKey } from '../../src/http/auth.js';

const ADMIN = 'admin-key-0123456789abcdef';
const VIEWER = 'viewer-key-0123456789abcdef';
const CLIENT = 'client-key-0123456789abcdef';

function serve(argv: string[], env: Record<string, string | undefined> = {}): ServeConfig {
  const parsed = parseCliConfig(['serve', ...argv], env);
  if (parsed.command !== 'serve') throw new Error(`expected serve, got ${parsed.command}`);
  return parsed.config;
}

function usageError(argv: string[], env: Record<string, string | undefined> = {}): CliUsageError {
  try {
    parseCliConfig(argv, env);
  } catch (err) {
    expect(err).toBeInstanceOf(CliUsageError);
    const usage = err as CliUsageError;
    expect(usage.exitCode).toBe(2);
    expect(usage.message).not.toContain('\n');
    return usage;
  }
  throw new Error(`expected a usage error for ${JSON.stringify(argv)}`);
}

describe('parseCliConfig: commands', () => {
  it('--help, -h and `help` ask for help, also after a command', () => {
    expect(parseCliConfig(['--help'], {})).toEqual({ command: 'help' });
    expect(parseCliConfig(['-h'], {})).toEqual({ command: 'help' });
    expect(parseCliConfig(['help'], {})).toEqual({ command: 'help' });
    expect(parseCliConfig(['serve', '--help'], {})).toEqual({ command: 'help' });
  });

  it('--version and -v ask for the version', () => {
    expect(parseCliConfig(['--version'], {})).toEqual({ command: 'version' });
    expect(parseCliConfig(['-v'], {})).toEqual({ command: 'version' });
  });

  it('no command is a usage error that shows the whole usage', () => {
    const err = usageError([]);
    expect(err.showUsage).toBe(true);
    expect(err.message).toMatch(/missing command/);
  });

  it('an unknown command is a usage error naming it', () => {
    const err = usageError(['srve']);
    expect(err.message).toMatch(/unknown command "srve"/);
    expect(err.showUsage).toBe(false);
  });

  it('an unknown command that looks like a pasted secret is not echoed', () => {
    const pasted = 'sk-' + 'x'.repeat(40) + '/+=';
    expect(usageError([pasted]).message).not.toContain(pasted);
  });

  it('extra positional arguments after serve are rejected', () => {
    expect(usageError(['serve', 'now']).message).toMatch(/unexpected argument "now"/);
  });

  it('the usage text lists every flag and environment variable', () => {
    for (const word of [
      'serve',
      '--host',
      '--port',
      '--db',
      '--memory',
      '--log-level',
      '--grace-ms',
      '--help',
      '--version',
      'LLMLB_HOST',
      'LLMLB_PORT',
      'LLMLB_DB',
      'LLMLB_LOG_LEVEL',
      'LLMLB_GRACE_MS',
      'LLMLB_API_KEYS',
      'LLMLB_ADMIN_KEY',
      'LLMLB_SECRET',
      'LLMLB_DATABASE_URL',
      'LLMLB_LEASE_TTL_MS',
    ]) {
      expect(USAGE).toContain(word);
    }
  });
});

describe('parseCliConfig: serve defaults and precedence', () => {
  it('uses the documented defaults', () => {
    const config = serve([]);
    expect(config).toEqual({
      host: '127.0.0.1',
      port: 32768,
      storage: { kind: 'sqlite', filename: './llmlb.db' },
      logLevel: 'info',
      graceMs: 10_000,
      keys: [],
      secret: undefined,
      observe: { metrics: { path: '/metrics', port: null, public: false }, dashboard: true, readyRequiresEndpoint: false },
      routing: { selector: 'expected-latency', queueLength: 1000, queueTimeoutMs: 30_000, affinity: false },
    });
    expect(SERVE_DEFAULTS).toMatchObject({ host: '127.0.0.1', port: 32768, db: './llmlb.db', logLevel: 'info', graceMs: 10_000 });
  });

  it('reads every setting from the environment', () => {
    const config = serve([], {
      LLMLB_HOST: '0.0.0.0',
      LLMLB_PORT: '8080',
      LLMLB_DB: '/data/llmlb.db',
      LLMLB_LOG_LEVEL: 'debug',
      LLMLB_GRACE_MS: '2500',
      LLMLB_SECRET: 's'.repeat(32),
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      storage: { kind: 'sqlite', filename: '/data/llmlb.db' },
      logLevel: 'debug',
      graceMs: 2500,
      secret: 's'.repeat(32),
    });
  });

  it('flags win over environment variables', () => {
    const config = serve(
      ['--host', '::1', '--port', '0', '--db', 'flag.db', '--log-level', 'warn', '--grace-ms', '0'],
      { LLMLB_HOST: '0.0.0.0', LLMLB_PORT: '8080', LLMLB_DB: 'env.db', LLMLB_LOG_LEVEL: 'debug', LLMLB_GRACE_MS: '5' },
    );
    expect(config).toMatchObject({
      host: '::1',
      port: 0,
      storage: { kind: 'sqlite', filename: 'flag.db' },
      logLevel: 'warn',
      graceMs: 0,
    });
  });

  it('accepts --flag=value and bracketed IPv6 hosts', () => {
    expect(serve(['--port=9000', '--host=[::1]'])).toMatchObject({ port: 9000, host: '::1' });
  });

  it('empty environment variables count as unset', () => {
    const config = serve([], { LLMLB_PORT: '', LLMLB_HOST: '  ', LLMLB_DB: '', LLMLB_ADMIN_KEY: '', LLMLB_SECRET: '' });
    expect(config).toMatchObject({ port: 32768, host: '127.0.0.1', keys: [], secret: undefined });
  });

  it('--memory selects memory storage, also over LLMLB_DB', () => {
    expect(serve(['--memory']).storage).toEqual({ kind: 'memory' });
    expect(serve(['--memory'], { LLMLB_DB: 'env.db' }).storage).toEqual({ kind: 'memory' });
  });

  it('--db with a postgres:// URL, or LLMLB_DATABASE_URL, selects PostgreSQL and needs LLMLB_SECRET', () => {
    const url = 'postgres://llmlb:pw@db.internal:5432/llmlb';
    const secret = { LLMLB_SECRET: 'a-secret-of-sixteen-chars' };
    expect(serve(['--db', url], secret).storage).toEqual({ kind: 'postgres', connectionString: url, leaseTtlMs: undefined });
    expect(serve([], { ...secret, LLMLB_DATABASE_URL: url, LLMLB_DB: 'env.db', LLMLB_LEASE_TTL_MS: '2000' }).storage).toEqual({
      kind: 'postgres',
      connectionString: url,
      leaseTtlMs: 2000,
    });
    expect(serve(['--db', 'flag.db'], { ...secret, LLMLB_DATABASE_URL: url }).storage).toEqual({ kind: 'sqlite', filename: 'flag.db' });
    const noSecret = usageError(['serve', '--db', url]);
    expect(noSecret.message).toMatch(/LLMLB_SECRET/);
    expect(noSecret.message).not.toContain('pw');
    expect(usageError(['serve'], { LLMLB_DATABASE_URL: 'mysql://u:pw@h/db' }).message).not.toContain('pw');
    expect(usageError(['serve', '--db', url], { ...secret, LLMLB_LEASE_TTL_MS: '5' }).message).toMatch(/LLMLB_LEASE_TTL_MS/);
  });

  it('port 0 (pick a free port) and 65535 are valid', () => {
    expect(serve(['--port', '0']).port).toBe(0);
    expect(serve(['--port', '65535']).port).toBe(65535);
  });
});

describe('parseCliConfig: usage errors', () => {
  it('rejects unknown flags without echoing their value', () => {
    const err = usageError(['serve', '--admin-key=super-secret-value-123']);
    expect(err.message).toBe('unknown option --admin-key');
    expect(err.message).not.toContain('super-secret');
    expect(usageError(['serve', '-x']).message).toBe('unknown option -x');
  });

  it('rejects a flag without its value, and a value for a boolean flag', () => {
    expect(usageError(['serve', '--port']).message).toBe('option --port needs a value');
    expect(usageError(['serve', '--memory=yes']).message).toBe('option --memory does not take a value');
  });

  it.each([['abc'], ['-1'], ['65536'], ['80.5'], ['123456'], ['']])('rejects --port %j', (port) => {
    const err = usageError(['serve', `--port=${port}`]);
    expect(err.message).toMatch(/^invalid --port .*: must be an integer from 0 to 65535/);
  });

  it('names the environment variable when the bad value came from it', () => {
    expect(usageError(['serve'], { LLMLB_PORT: 'http' }).message).toMatch(/^invalid LLMLB_PORT "http"/);
    expect(usageError(['serve'], { LLMLB_LOG_LEVEL: 'trace' }).message).toMatch(
      /^invalid LLMLB_LOG_LEVEL "trace": must be one of debug, info, warn, error/,
    );
    expect(usageError(['serve'], { LLMLB_GRACE_MS: '1s' }).message).toMatch(/^invalid LLMLB_GRACE_MS "1s"/);
    expect(usageError(['serve'], { LLMLB_HOST: 'http://x' }).message).toMatch(/^invalid LLMLB_HOST/);
  });

  it('a valid flag overrides a bad environment variable', () => {
    expect(serve(['--port', '1234'], { LLMLB_PORT: 'bad' }).port).toBe(1234);
  });

  it('rejects bad --log-level, --grace-ms, --host and --db values', () => {
    expect(usageError(['serve', '--log-level', 'verbose']).message).toMatch(/invalid --log-level "verbose"/);
    expect(usageError(['serve', '--grace-ms', '-5']).message).toBe(
      'option --grace-ms needs a value (for a value starting with "-", write --grace-ms=<value>)',
    );
    expect(usageError(['serve', '--grace-ms=-5']).message).toMatch(/invalid --grace-ms "-5"/);
    expect(usageError(['serve', '--grace-ms', '99999999']).message).toMatch(/invalid --grace-ms/);
    expect(usageError(['serve', '--host', 'a b']).message).toMatch(/invalid --host/);
    expect(usageError(['serve', '--db', ':memory:']).message).toMatch(/use --memory/);
    expect(usageError(['serve', '--db', '']).message).toMatch(/invalid --db/);
  });

  it('rejects --db together with --memory', () => {
    expect(usageError(['serve', '--memory', '--db', 'x.db']).message).toMatch(/either --db or --memory/);
  });
});

describe('parseCliConfig: API keys', () => {
  it('parses LLMLB_API_KEYS into digests with roles and names, never plaintext', () => {
    const config = serve([], { LLMLB_API_KEYS: ` ${ADMIN}:admin, ${VIEWER}:viewer,${CLIENT}:client ,` });
    expect(config.keys).toEqual([
      { sha256: hashKey(ADMIN), role: 'admin', name: 'LLMLB_API_KEYS entry 1' },
      { sha256: hashKey(VIEWER), role: 'viewer', name: 'LLMLB_API_KEYS entry 2' },
      { sha256: hashKey(CLIENT), role: 'client', name: 'LLMLB_API_KEYS entry 3' },
    ]);
    expect(JSON.stringify(config)).not.toContain(ADMIN);
  });

  it('keys may contain colons: the role is after the last one', () => {
    const key = 'org:team:0123456789abcdef';
    expect(serve([], { LLMLB_API_KEYS: `${key}:viewer` }).keys).toEqual([
      { sha256: hashKey(key), role: 'viewer', name: 'LLMLB_API_KEYS entry 1' },
    ]);
  });

  it('LLMLB_ADMIN_KEY adds one admin key, alone or with the list', () => {
    expect(serve([], { LLMLB_ADMIN_KEY: ADMIN }).keys).toEqual([
      { sha256: hashKey(ADMIN), role: 'admin', name: 'LLMLB_ADMIN_KEY' },
    ]);
    expect(serve([], { LLMLB_ADMIN_KEY: ADMIN, LLMLB_API_KEYS: `${CLIENT}:client` }).keys.map((k) => k.role)).toEqual([
      'client',
      'admin',
    ]);
  });

  const secretLooking = 'Zq9-secret-material-that-must-not-leak';
  it.each([
    ['no role', `${secretLooking}`, /entry 1 is malformed: expected <key>:<role>/],
    ['an empty key', `:admin`, /entry 1 is malformed/],
    ['an unknown role', `${secretLooking}:root`, /entry 1 is malformed: the role after the last ":" must be one of admin, viewer, client, node/],
    ['a role that is really the key tail', `sk:${secretLooking}`, /entry 1 is malformed: the role/],
    ['a short key in entry 2', `${ADMIN}:admin,Zq9-short:viewer`, /entry 2: the key is too short \(at least 16 characters\)/],
    ['a key with a space', `Zq9 secret material that must:admin`, /entry 1: the key may only contain printable ASCII/],
    ['a duplicate key', `${secretLooking}:admin,${secretLooking}:viewer`, /entry 2 repeats the key of LLMLB_API_KEYS entry 1/],
  ])('rejects LLMLB_API_KEYS with %s, without echoing the key', (_, value, message) => {
    const err = usageError(['serve'], { LLMLB_API_KEYS: value });
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('Zq9');
    expect(err.message).not.toContain(secretLooking);
  });

  it('rejects a short LLMLB_ADMIN_KEY without echoing it', () => {
    const short = 'Zq9-tiny-key';
    expect(short.length).toBeLessThan(MIN_API_KEY_LENGTH);
    const err = usageError(['serve'], { LLMLB_ADMIN_KEY: short });
    expect(err.message).toBe('LLMLB_ADMIN_KEY: the key is too short (at least 16 characters)');
    expect(err.message).not.toContain(short);
  });

  it('rejects LLMLB_ADMIN_KEY repeating a listed key', () => {
    const err = usageError(['serve'], { LLMLB_ADMIN_KEY: ADMIN, LLMLB_API_KEYS: `${ADMIN}:viewer` });
    expect(err.message).toBe('LLMLB_ADMIN_KEY repeats the key of LLMLB_API_KEYS entry 1');
  });

  it('rejects a short LLMLB_SECRET without echoing it', () => {
    const err = usageError(['serve'], { LLMLB_SECRET: 'Zq9-short' });
    expect(err.message).toBe('LLMLB_SECRET is too short (at least 16 characters)');
  });
});
