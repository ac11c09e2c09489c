/**
 * Command-line parsing for the `llmlb` CLI: flags (`node:util` `parseArgs`, strict) and `LLMLB_*`
 * environment variables, validated with zod. Pure: no I/O, so every rule is unit-tested. Flags
 * win over environment variables; empty environment variables count as unset. API keys are
 * reduced to SHA-256 digests here, so the parsed config never holds a client key in plaintext,
 * and no error message ever repeats a key or the secret.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { MIN_SECRET_LENGTH } from '../crypto.js';
import { ROLES, type Role, hashKey } from '../http/auth.js';
import { AGENT_USAGE, type AgentConfig, parseAgentConfig } from './agent-config.js';
import { LOG_LEVELS, type LogLevel } from './log.js';
import { OBSERVE_OPTIONS, OBSERVE_USAGE, type ObserveConfig, parseObserveConfig } from './observe-config.js';
import { ROUTING_OPTIONS, ROUTING_USAGE, type RoutingConfig, parseRoutingConfig } from './routing-config.js';
import { type CliEnv, pick, validate } from './sources.js';
import { CliUsageError, argsError } from './usage-error.js';

export { CliUsageError } from './usage-error.js';
export type { CliEnv } from './sources.js';

/**
 * Defaults of `llmlb serve`.
 *
 * @example
 * SERVE_DEFAULTS.port; // 32768
 */
export const SERVE_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 32768,
  db: './llmlb.db',
  logLevel: 'info' as LogLevel,
  graceMs: 10_000,
});

/**
 * Shortest accepted client API key, in characters.
 *
 * @example
 * 'my-admin-key-0123'.length >= MIN_API_KEY_LENGTH; // true
 */
export const MIN_API_KEY_LENGTH = 16;
const MAX_API_KEY_LENGTH = 4096;
const MAX_GRACE_MS = 3_600_000;

/**
 * A client API key of the standalone server, by digest: `{ sha256, role, name }` is what
 * `createRouter({ auth: { keys } })` accepts. `name` says where it came from (never the key).
 *
 * @example
 * const key: ConfiguredKey = { sha256: hashKey('a-very-long-admin-key'), role: 'admin', name: 'LLMLB_ADMIN_KEY' };
 */
export interface ConfiguredKey {
  readonly sha256: string;
  readonly role: Role;
  readonly name: string;
}

/**
 * Where the server keeps its data: a SQLite file, a PostgreSQL database shared with other
 * instances (`leaseTtlMs` from `LLMLB_LEASE_TTL_MS`, when set), or memory only (`--memory`).
 *
 * @example
 * const storage: StorageConfig = { kind: 'sqlite', filename: './llmlb.db' };
 */
export type StorageConfig =
  | { readonly kind: 'sqlite'; readonly filename: string }
  | { readonly kind: 'postgres'; readonly connectionString: string; readonly leaseTtlMs: number | undefined }
  | { readonly kind: 'memory' };

/**
 * Everything `llmlb serve` needs, validated.
 *
 * @example
 * const { config } = parseCliConfig(['serve', '--memory'], { LLMLB_ADMIN_KEY: 'a-very-long-admin-key' }) as ServeCommand;
 * config.port; // 32768
 */
export interface ServeConfig {
  readonly host: string;
  /** `0` picks a free port. */
  readonly port: number;
  readonly storage: StorageConfig;
  readonly logLevel: LogLevel;
  /** How long in-flight requests may run after a stop signal before their connections are cut. */
  readonly graceMs: number;
  /** Configured client keys; empty means "generate an admin key at start-up". */
  readonly keys: readonly ConfiguredKey[];
  /** `LLMLB_SECRET`, when set; otherwise the server uses `<db>.secret` (or a random one in memory). */
  readonly secret: string | undefined;
  /** Metrics, health routes and the dashboard. */
  readonly observe: ObserveConfig;
  /** Selector, admission queue and session affinity. */
  readonly routing: RoutingConfig;
}

/**
 * `llmlb serve …`, parsed.
 *
 * @example
 * const command: ServeCommand = { command: 'serve', config };
 */
export interface ServeCommand {
  readonly command: 'serve';
  readonly config: ServeConfig;
}

/**
 * What the command line asks for.
 *
 * @example
 * const parsed: CliCommand = parseCliConfig(['--version'], {}); // { command: 'version' }
 */
export type CliCommand =
  | { readonly command: 'help' }
  | { readonly command: 'version' }
  | ServeCommand
  | { readonly command: 'agent'; readonly config: AgentConfig };

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  db: { type: 'string' },
  memory: { type: 'boolean' },
  'log-level': { type: 'string' },
  'grace-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  ...OBSERVE_OPTIONS,
  ...ROUTING_OPTIONS,
} as const;

/**
 * The `--help` text: every command, flag and environment variable.
 *
 * @example
 * process.stdout.write(USAGE);
 */
export const USAGE = `Usage: llmlb <command> [options]

Commands:
  serve                 Run the standalone server: admin API on /v0, OpenAI-compatible proxy on /v1
  agent                 Register this machine's inference server with a router (self-registration)
  help                  Show this help

Options of serve (flags win over environment variables):
  --host <host>         Address to listen on          env LLMLB_HOST       default ${SERVE_DEFAULTS.host}
  --port <port>         Port, 0 picks a free one      env LLMLB_PORT       default ${SERVE_DEFAULTS.port}
  --db <file|url>       SQLite database file, or a postgres:// URL (several instances share it)
                                                      env LLMLB_DB         default ${SERVE_DEFAULTS.db}
  --memory              Keep everything in memory (no database file; nothing survives a restart)
  --log-level <level>   debug, info, warn or error    env LLMLB_LOG_LEVEL  default ${SERVE_DEFAULTS.logLevel}
  --grace-ms <ms>       Time in-flight requests get to finish on SIGINT/SIGTERM
                                                      env LLMLB_GRACE_MS   default ${SERVE_DEFAULTS.graceMs}
${OBSERVE_USAGE}${ROUTING_USAGE}  -h, --help            Show this help
  -v, --version         Print the version

${AGENT_USAGE}
Environment:
  LLMLB_API_KEYS        Client API keys: "key1:admin,key2:viewer,key3:client" (keys of at least
                        ${MIN_API_KEY_LENGTH} characters; roles admin, viewer, client, node)
  LLMLB_ADMIN_KEY       One admin key (shorthand). With no key configured at all, an admin key is
                        generated at start-up and printed once on stderr.
  LLMLB_SECRET          Secret (at least ${MIN_SECRET_LENGTH} characters) that encrypts upstream api keys at rest.
                        Default: generated once and kept beside the database in <db>.secret
                        (mode 0600); with --memory, a random secret for this run only.
                        Required with PostgreSQL: every instance must use the same secret.
  LLMLB_DATABASE_URL    PostgreSQL URL (postgres://user:password@host:5432/db), as --db <url>
  LLMLB_LEASE_TTL_MS    With PostgreSQL: lifetime of an instance's leases (default 10000); a dead
                        instance's endpoints are checked by another about this long after it died

Clients authenticate with "Authorization: Bearer <key>". Logs are JSON lines on stdout: one line
per proxied request and per admin write at info (--log-level warn silences them).
`;

const hostSchema = z
  .string()
  .regex(/^(\[[\w.:%-]+\]|[\w.:%-]+)$/)
  .transform((host) => (host.startsWith('[') ? host.slice(1, -1) : host));
const portSchema = z
  .string()
  .regex(/^\d{1,5}$/)
  .transform(Number)
  .pipe(z.number().int().min(0).max(65_535));
const logLevelSchema = z.enum(LOG_LEVELS);
const graceSchema = z
  .string()
  .regex(/^\d{1,7}$/)
  .transform(Number)
  .pipe(z.number().int().min(0).max(MAX_GRACE_MS));
const dbSchema = z
  .string()
  .min(1)
  .refine((file) => file !== ':memory:');
const POSTGRES_URL = /^postgres(ql)?:\/\//;
const leaseTtlSchema = z
  .string()
  .regex(/^\d{1,6}$/)
  .transform(Number)
  .pipe(z.number().int().min(300).max(600_000));

/** The storage named by --db / LLMLB_DATABASE_URL / LLMLB_DB (never echoing a URL, which may hold a password). */
function parseStorage(db: string | undefined, env: CliEnv): StorageConfig {
  const source = pick(db, 'db', env, 'LLMLB_DATABASE_URL') ?? pick(undefined, 'db', env, 'LLMLB_DB');
  if (source !== undefined && POSTGRES_URL.test(source.raw)) {
    if (parseSecret(env) === undefined) {
      throw new CliUsageError('with a PostgreSQL database, set LLMLB_SECRET (the same on every instance)');
    }
    const ttl = pick(undefined, 'lease-ttl-ms', env, 'LLMLB_LEASE_TTL_MS');
    const leaseTtlMs = ttl && validate(leaseTtlSchema, ttl, 'must be an integer number of milliseconds from 300 to 600000');
    return { kind: 'postgres', connectionString: source.raw, leaseTtlMs };
  }
  if (source?.label === 'LLMLB_DATABASE_URL') throw new CliUsageError('LLMLB_DATABASE_URL must be a postgres:// or postgresql:// URL');
  const filename = source
    ? validate(dbSchema, source, 'must be a file path or a postgres:// URL (use --memory for a database that is not kept)')
    : SERVE_DEFAULTS.db;
  return { kind: 'sqlite', filename };
}

/** Printable ASCII without spaces: what fits in an `Authorization` header. */
const KEY_CHARS = /^[\x21-\x7e]+$/;

/** Checks one key; messages say where the key came from but never contain it. */
function checkKey(key: string, where: string): void {
  if (key.length < MIN_API_KEY_LENGTH) {
    throw new CliUsageError(`${where}: the key is too short (at least ${MIN_API_KEY_LENGTH} characters)`);
  }
  if (key.length > MAX_API_KEY_LENGTH) {
    throw new CliUsageError(`${where}: the key is too long (at most ${MAX_API_KEY_LENGTH} characters)`);
  }
  if (!KEY_CHARS.test(key)) {
    throw new CliUsageError(`${where}: the key may only contain printable ASCII characters without spaces or commas`);
  }
}

/** Parses `LLMLB_API_KEYS` and `LLMLB_ADMIN_KEY` into digests; duplicates are errors. */
function parseKeys(env: CliEnv): ConfiguredKey[] {
  const keys: ConfiguredKey[] = [];
  const seen = new Map<string, string>();
  const add = (key: string, role: Role, name: string) => {
    const sha256 = hashKey(key);
    const earlier = seen.get(sha256);
    if (earlier !== undefined) throw new CliUsageError(`${name} repeats the key of ${earlier}`);
    seen.set(sha256, name);
    keys.push({ sha256, role, name });
  };

  const list = env.LLMLB_API_KEYS;
  if (list !== undefined) {
    list.split(',').forEach((entry, index) => {
      const trimmed = entry.trim();
      if (trimmed === '') return;
      const where = `LLMLB_API_KEYS entry ${index + 1}`;
      const at = trimmed.lastIndexOf(':');
      if (at <= 0) throw new CliUsageError(`${where} is malformed: expected <key>:<role>, e.g. "…:admin"`);
      const key = trimmed.slice(0, at).trim();
      const role = trimmed.slice(at + 1).trim();
      if (!(ROLES as readonly string[]).includes(role)) {
        throw new CliUsageError(`${where} is malformed: the role after the last ":" must be one of ${ROLES.join(', ')}`);
      }
      checkKey(key, where);
      add(key, role as Role, where);
    });
  }

  const admin = env.LLMLB_ADMIN_KEY?.trim();
  if (admin !== undefined && admin !== '') {
    checkKey(admin, 'LLMLB_ADMIN_KEY');
    add(admin, 'admin', 'LLMLB_ADMIN_KEY');
  }
  return keys;
}

function parseSecret(env: CliEnv): string | undefined {
  const secret = env.LLMLB_SECRET;
  if (secret === undefined || secret.trim() === '') return undefined;
  if (secret.trim().length < MIN_SECRET_LENGTH) {
    throw new CliUsageError(`LLMLB_SECRET is too short (at least ${MIN_SECRET_LENGTH} characters)`);
  }
  return secret.trim();
}

function readArgs(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw argsError(err);
  }
}

/** Names that are safe to repeat in a message (a mistyped command, not a pasted secret). */
function printable(word: string): string {
  return /^[\w.-]{1,32}$/.test(word) ? ` "${word}"` : '';
}

/**
 * Parses the command line (`process.argv.slice(2)`) and environment. Returns the command to run,
 * or throws {@link CliUsageError} (exit code 2) with a one-line message.
 *
 * @example
 * const parsed = parseCliConfig(['serve', '--port', '0', '--memory'], process.env);
 * if (parsed.command === 'serve') console.log(parsed.config.port); // 0
 */
export function parseCliConfig(argv: readonly string[], env: CliEnv): CliCommand {
  // The agent has flags of its own.
  if (argv[0] === 'agent') {
    if (argv.some((arg) => arg === '--help' || arg === '-h')) return { command: 'help' };
    return { command: 'agent', config: parseAgentConfig(argv.slice(1), env) };
  }
  const { values, positionals } = readArgs(argv);
  if (values.help) return { command: 'help' };
  if (values.version) return { command: 'version' };

  const [command, ...rest] = positionals;
  if (command === undefined) throw new CliUsageError('missing command', { showUsage: true });
  if (command === 'help') return { command: 'help' };
  if (command !== 'serve') throw new CliUsageError(`unknown command${printable(command)} (commands: serve, agent, help)`);
  if (rest.length > 0) throw new CliUsageError(`unexpected argument${printable(rest[0] ?? '')} after "serve"`);

  const hostSource = pick(values.host, 'host', env, 'LLMLB_HOST');
  const host = hostSource
    ? validate(hostSchema, hostSource, 'must be a host name or IP address, e.g. 127.0.0.1 or 0.0.0.0')
    : SERVE_DEFAULTS.host;

  const portSource = pick(values.port, 'port', env, 'LLMLB_PORT');
  const port = portSource
    ? validate(portSchema, portSource, 'must be an integer from 0 to 65535 (0 picks a free port)')
    : SERVE_DEFAULTS.port;

  const levelSource = pick(values['log-level'], 'log-level', env, 'LLMLB_LOG_LEVEL');
  const logLevel = levelSource
    ? validate(logLevelSchema, levelSource, `must be one of ${LOG_LEVELS.join(', ')}`)
    : SERVE_DEFAULTS.logLevel;

  const graceSource = pick(values['grace-ms'], 'grace-ms', env, 'LLMLB_GRACE_MS');
  const graceMs = graceSource
    ? validate(graceSchema, graceSource, `must be an integer number of milliseconds from 0 to ${MAX_GRACE_MS}`)
    : SERVE_DEFAULTS.graceMs;

  if (values.memory && values.db !== undefined) throw new CliUsageError('use either --db or --memory, not both');
  const storage: StorageConfig = values.memory ? { kind: 'memory' } : parseStorage(values.db, env);

  const config: ServeConfig = {
    host,
    port,
    storage,
    logLevel,
    graceMs,
    keys: parseKeys(env),
    secret: parseSecret(env),
    observe: parseObserveConfig(values, env),
    routing: parseRoutingConfig(values, env),
  };
  return { command: 'serve', config: Object.freeze(config) };
}
