/**
 * `llmlb serve`: the standalone server. Resolves the secret (env, `<db>.secret`, or random in
 * memory) and the client keys (configured, or one generated admin key), starts a router with
 * SQLite or memory storage and a pino logger (with the request log at `info`), serves it on
 * Node's `http` with `/healthz`, `/readyz`, metrics and the dashboard, and stops gracefully: no new connections, in-flight requests get a grace period, then the router (and
 * its database) is closed.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { toNodeHandler } from '../adapters/node.js';
import type { AuthKey } from '../http/auth.js';
import type { HandlerOptions } from '../http/handler.js';
import { routerInternals } from '../internals.js';
import type { Logger } from '../logger.js';
import { attachRequestLog } from '../observe/request-log.js';
import { type Router, type RouterOptions, createRouter } from '../router.js';
import { memoryStorage } from '../storage/memory/index.js';
import { postgresStorage } from '../storage/postgres/index.js';
import { expectedLatencySelector, latencySelector, leastBusySelector, roundRobinSelector } from '../select/index.js';
import type { Selector } from '../select/types.js';
import { sqliteStorage } from '../storage/sqlite/index.js';
import { type ResolvedSecret, errorCode, generateAdminKey, resolveSecret } from './secret.js';
import type { ServeConfig, StorageConfig } from './config.js';
import type { SelectorName } from './routing-config.js';
import { createCliLogger } from './log.js';

export { GENERATED_KEY_PREFIX, generateAdminKey, secretFileFor } from './secret.js';

/** The selector behind each `--selector` name. */
const SELECTORS: Readonly<Record<SelectorName, () => Selector>> = {
  'expected-latency': expectedLatencySelector,
  latency: latencySelector,
  'least-busy': leastBusySelector,
  'round-robin': roundRobinSelector,
};

/**
 * Somewhere to write text: `process.stdout`, `process.stderr`, or a test double.
 *
 * @example
 * const out: TextSink = { write: (chunk) => void chunks.push(chunk) };
 */
export interface TextSink {
  write(chunk: string): unknown;
}

/**
 * Where the server writes: the listening line and JSON logs go to `stdout`; the generated admin
 * key notice goes to `stderr`.
 *
 * @example
 * const io: ServeIO = { stdout: process.stdout, stderr: process.stderr };
 */
export interface ServeIO {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
}

/**
 * A running standalone server.
 *
 * @example
 * const handle = await runServe(config, { stdout: process.stdout, stderr: process.stderr });
 * console.log(handle.url); // http://127.0.0.1:32768
 * await handle.stop();
 */
export interface ServeHandle {
  /** Base URL, e.g. `http://127.0.0.1:32768`. */
  readonly url: string;
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** The port of the metrics listener when metrics have their own (`--metrics-port`); else undefined. */
  readonly metricsPort: number | undefined;
  readonly router: Router;
  readonly server: Server;
  readonly logger: Logger;
  /** Where the secret came from: `env`, `file` (read or created), or `memory` (random, this run only). */
  readonly secretSource: 'env' | 'file' | 'memory';
  /** The admin key generated because none was configured (also printed on stderr); else undefined. */
  readonly generatedAdminKey: string | undefined;
  /**
   * Graceful stop: stop accepting connections, let in-flight requests finish for up to
   * `graceMs`, then cut the remaining connections and stop the router. Idempotent.
   */
  stop(): Promise<void>;
}

/** Request timeouts of the standalone server. */
export const SERVER_TIMEOUTS = Object.freeze({ headersTimeout: 10_000, requestTimeout: 60_000, connectionsCheckingInterval: 1_000 });

/** `host:port` for a URL (IPv6 literals in brackets). */
function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolveListen, reject) => {
    const onError = (err: Error) => {
      const code = errorCode(err);
      const reason =
        code === 'EADDRINUSE'
          ? 'the address is already in use'
          : code === 'EACCES'
            ? 'permission denied'
            : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
              ? 'no such local address'
              : err.message;
      reject(new Error(`cannot listen on ${urlHost(host)}:${port}: ${reason}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolveListen(server.address() as AddressInfo);
    });
  });
}

function keyNotice(key: string, url: string): string {
  return [
    '',
    'llmlb: no API key configured (LLMLB_API_KEYS or LLMLB_ADMIN_KEY), so this admin key was generated for this run:',
    '',
    `    ${key}`,
    '',
    'Send it as a bearer token, e.g.:',
    `    curl -H "Authorization: Bearer ${key}" ${url}/v0/endpoints`,
    'It changes on every start: set LLMLB_ADMIN_KEY (or LLMLB_API_KEYS) to keep a key.',
    '',
    '',
  ].join('\n');
}

/**
 * Starts the standalone server and resolves once it listens (after `router.start()`, which
 * launches the start-up health checks). Writes `llmlb listening on <url>` on stdout when ready.
 * Throws an `Error` with a one-line message when it cannot start (bad secret file, port in use,
 * undecryptable stored keys, …); nothing is left running then.
 *
 * @example
 * const parsed = parseCliConfig(['serve', '--port', '0', '--memory'], process.env);
 * if (parsed.command === 'serve') {
 *   const handle = await runServe(parsed.config, { stdout: process.stdout, stderr: process.stderr });
 *   await handle.stop();
 * }
 */
export async function runServe(config: ServeConfig, io: ServeIO): Promise<ServeHandle> {
  const log = createCliLogger(config.logLevel, io.stdout);
  const logger = log.logger;
  const secret = resolveSecret(config, logger);
  const { router, generatedAdminKey } = createServeRouter(config, secret, logger);
  if (log.info) attachRequestLog(router, logger);
  await startRouter(router, secret);
  const { server, address, stop, metricsPort } = await serveHttp(router, config, logger);
  const url = `http://${urlHost(config.host)}:${address.port}`;
  if (generatedAdminKey !== undefined) io.stderr.write(keyNotice(generatedAdminKey, url));
  log.flush();
  io.stdout.write(`llmlb listening on ${url}\n`);
  const stopAndFlush = () => stop().finally(log.flush);
  return { url, port: address.port, metricsPort, router, server, logger, secretSource: secret.source, generatedAdminKey, stop: stopAndFlush };
}

/** The routes of the main listener and, when metrics have their own port, of the metrics listener. */
function handlerOptions(config: ServeConfig): { main: HandlerOptions; metrics: HandlerOptions | null } {
  const { metrics, dashboard, readyRequiresEndpoint } = config.observe;
  const health = { requireOnlineEndpoint: readyRequiresEndpoint };
  const served = metrics && { path: metrics.path, public: metrics.public };
  const ownPort = metrics !== null && metrics.port !== null;
  return {
    main: { health, dashboard, metrics: ownPort ? false : (served ?? false) },
    metrics: ownPort && served ? { api: false, health, metrics: served } : null,
  };
}

/** The storage (and, on PostgreSQL, the cluster options) of the standalone server. */
function openStorage(config: StorageConfig): Pick<RouterOptions, 'storage' | 'cluster'> {
  switch (config.kind) {
    case 'memory':
      return { storage: memoryStorage() };
    case 'sqlite':
      return { storage: sqliteStorage({ filename: config.filename }) };
    case 'postgres':
      return {
        storage: postgresStorage({ connectionString: config.connectionString }),
        cluster: config.leaseTtlMs === undefined ? true : { leaseTtlMs: config.leaseTtlMs },
      };
  }
}

/** Where the data is, for the start-up log line (a database URL without its password). */
function describeStorage(config: StorageConfig): string {
  if (config.kind === 'memory') return 'memory';
  if (config.kind === 'sqlite') return resolve(config.filename);
  const url = new URL(config.connectionString);
  if (url.password !== '') url.password = '***';
  return url.toString();
}

/** The router of the standalone server: its storage, its keys (one generated admin key when none is configured). */
function createServeRouter(config: ServeConfig, secret: ResolvedSecret, logger: Logger): { router: Router; generatedAdminKey: string | undefined } {
  let generatedAdminKey: string | undefined;
  let keys: AuthKey[] = config.keys.map(({ sha256, role, name }) => ({ sha256, role, name }));
  if (keys.length === 0) {
    generatedAdminKey = generateAdminKey();
    keys = [{ key: generatedAdminKey, role: 'admin', name: 'generated admin key' }];
  }
  const { selector, queueLength, queueTimeoutMs, affinity } = config.routing;
  const router = createRouter({
    ...openStorage(config.storage),
    secret: secret.secret,
    logger,
    auth: { keys },
    selector: SELECTORS[selector](),
    proxy: { queueLength, queueTimeoutMs, affinity },
  });
  const roles = { admin: 0, viewer: 0, client: 0, node: 0 };
  for (const key of keys) roles[key.role]++;
  logger.info(
    {
      storage: describeStorage(config.storage),
      secret_source: secret.source,
      ...(secret.file !== undefined ? { secret_file: resolve(secret.file), secret_file_created: secret.created } : {}),
      key_roles: generatedAdminKey === undefined ? roles : 'generated admin key',
    },
    'starting llmlb',
  );
  return { router, generatedAdminKey };
}

/** Starts the router; on failure stops it and throws a one-line message (with a hint about the secret file). */
async function startRouter(router: Router, secret: ResolvedSecret): Promise<void> {
  try {
    await router.start();
  } catch (err) {
    await router.stop().catch(() => undefined);
    const message = err instanceof Error ? err.message : String(err);
    const hint =
      /decrypt|secret/i.test(message) && secret.source === 'file'
        ? ` (the secret came from ${secret.file}; set LLMLB_SECRET to the secret the keys were stored with)`
        : '';
    throw new Error(`cannot start: ${message}${hint}`, { cause: err });
  }
}

/** What {@link serveHttp} started. */
interface Listening {
  server: Server;
  address: AddressInfo;
  metricsPort: number | undefined;
  stop: () => Promise<void>;
}

/**
 * Serves the router over HTTP (and metrics on their own port when configured); `stop` ends the
 * event streams, closes the servers gracefully, then stops the router.
 */
async function serveHttp(router: Router, config: ServeConfig, logger: Logger): Promise<Listening> {
  const options = handlerOptions(config);
  let stopping: Promise<void> | undefined;
  const servers: Server[] = [];
  const serverFor = (handle: (req: IncomingMessage, res: ServerResponse) => void): Server => {
    // Slow clients (slow-loris) cannot hold connections: headers within 10 s, the whole request
    // within 60 s, checked every second.
    const server = createServer(SERVER_TIMEOUTS, (req: IncomingMessage, res: ServerResponse) => {
      // While stopping, finished requests must not keep their connection open.
      if (stopping) res.setHeader('connection', 'close');
      res.once('close', () => {
        if (stopping) setImmediate(() => server.closeIdleConnections());
      });
      handle(req, res);
    });
    server.on('error', (err) => logger.error({ err }, 'http server error'));
    servers.push(server);
    return server;
  };
  const server = serverFor(toNodeHandler(router, options.main));
  let address: AddressInfo;
  let metricsPort: number | undefined;
  try {
    address = await listen(server, config.port, config.host);
    if (options.metrics) metricsPort = (await listen(serverFor(toNodeHandler(router, options.metrics)), config.observe.metrics?.port ?? 0, config.host)).port;
  } catch (err) {
    for (const started of servers) started.close();
    await router.stop().catch(() => undefined);
    throw err;
  }
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      logger.info({ grace_ms: config.graceMs }, 'shutting down: no new connections, waiting for in-flight requests');
      // Event streams never finish on their own: end them now rather than at the grace period's end.
      routerInternals(router).observe.close();
      const closed = Promise.all(servers.map((s) => new Promise<void>((resolveClose) => s.close(() => resolveClose()))));
      for (const s of servers) s.closeIdleConnections();
      const timer = setTimeout(() => {
        logger.warn({ grace_ms: config.graceMs }, 'grace period over: closing the remaining connections');
        for (const s of servers) s.closeAllConnections();
      }, config.graceMs);
      try {
        await closed;
      } finally {
        clearTimeout(timer);
      }
      await router.stop();
    })();
    return stopping;
  };
  return { server, address, metricsPort, stop };
}
