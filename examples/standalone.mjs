// @ts-check
/**
 * A standalone llmlb server in one file: SQLite storage, one admin key, Node's `http` server.
 *
 *   npm run build
 *   LLMLB_ADMIN_KEY=change-me-to-a-long-admin-key UPSTREAM_URL=http://127.0.0.1:11434 \
 *     PORT=8080 node examples/standalone.mjs
 *
 * Environment:
 *   PORT             port to listen on (default 0: any free port; the URL is printed)
 *   HOST             address to listen on (default 127.0.0.1)
 *   LLMLB_DB         SQLite file (default: llmlb-example.db in the OS temp directory)
 *   LLMLB_SECRET     encrypts upstream api keys at rest (≥ 16 characters)
 *   LLMLB_ADMIN_KEY  bearer key of the admin role (≥ 16 characters)
 *   UPSTREAM_URL     optional: an OpenAI-compatible server to register, e.g. an Ollama
 *   UPSTREAM_API_KEY optional: the api key llmlb sends to that upstream
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRouter, normalizeBaseUrl, sqliteStorage } from 'llmlb';
import { toNodeHandler } from 'llmlb/node';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';
const dbFile = process.env.LLMLB_DB ?? join(tmpdir(), 'llmlb-example.db');

// The secret derives the key that encrypts upstream api keys in the database. Generate one once
// (e.g. `openssl rand -base64 32`) and persist it: a router started with another secret cannot
// open the api keys stored before, and refuses to start.
let secret = process.env.LLMLB_SECRET;
if (!secret) {
  secret = randomBytes(32).toString('base64url');
  console.error('LLMLB_SECRET is not set: using a random secret for this run only (persist one!)');
}

// Who may call the HTTP API. Keys can also be given as `{ sha256: hashKey(key), role }` so the
// plaintext never sits in a config file; roles are `admin`, `viewer` (read-only admin API) and
// `client` (inference only).
let adminKey = process.env.LLMLB_ADMIN_KEY;
if (!adminKey) {
  adminKey = `llmlb_${randomBytes(24).toString('base64url')}`;
  console.error(`LLMLB_ADMIN_KEY is not set: generated admin key for this run: ${adminKey}`);
}

/** @type {import('llmlb').RouterOptions} */
const options = {
  storage: sqliteStorage({ filename: dbFile }),
  secret,
  auth: { keys: [{ key: adminKey, role: 'admin', name: 'admin' }] },
};
const router = createRouter(options);
// Opens the database, runs migrations, loads endpoints and launches their first health checks.
await router.start();

// Register the upstream from the environment once: the database remembers it across restarts.
const upstreamUrl = process.env.UPSTREAM_URL;
if (upstreamUrl) {
  const normalized = normalizeBaseUrl(upstreamUrl);
  if (!normalized.ok) throw new Error(`UPSTREAM_URL ${normalized.message}`);
  const { endpoints } = await router.endpoints.list();
  const existing = endpoints.find((e) => e.base_url === normalized.url);
  const endpoint =
    existing ??
    (await router.endpoints.create({
      name: process.env.UPSTREAM_NAME ?? new URL(normalized.url).host,
      base_url: normalized.url,
      ...(process.env.UPSTREAM_API_KEY ? { api_key: process.env.UPSTREAM_API_KEY } : {}),
    }));
  // Optional: wait for the running health checks, so the first requests find the models.
  await router.checker.idle();
  const detail = await router.endpoints.get(endpoint.id);
  console.log(`upstream ${detail.name} (${detail.base_url}): ${detail.status}, ${detail.models.length} model(s)`);
}

// `/v0/*` is the admin API, `/v1/*` the OpenAI-compatible proxy; anything else is a JSON 404.
const server = createServer(toNodeHandler(router));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, host, () => resolve(undefined));
});
const address = /** @type {import('node:net').AddressInfo} */ (server.address());
console.log(`listening on http://${host.includes(':') ? `[${host}]` : host}:${address.port}`);

// Graceful stop: refuse new connections, let in-flight requests finish (10 s at most), then stop
// the router (timers, upstream connections, database). A second Ctrl-C kills the process.
async function shutdown() {
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeIdleConnections();
  const force = setTimeout(() => server.closeAllConnections(), 10_000);
  force.unref();
  await closed;
  await router.stop();
  // Nothing is left to keep the event loop alive: the process exits with code 0.
}
const onSignal = () =>
  shutdown().catch((err) => {
    console.error('shutdown failed:', err);
    process.exitCode = 1;
  });
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
