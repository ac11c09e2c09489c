// @ts-check
/**
 * llmlb inside an existing Express 5 app: the app keeps its own routes and its own users, and
 * llmlb is mounted under `/llm` (admin API at `/llm/v0`, OpenAI-compatible proxy at `/llm/v1`).
 * Authentication is the app's: llmlb asks the app's function who is calling.
 *
 *   npm run build
 *   ALICE_TOKEN=alice-token-0123456789 BOB_TOKEN=bob-token-0123456789 PORT=3000 \
 *     node examples/express-app.mjs
 *
 * Environment:
 *   PORT, HOST     where to listen (default 0 = any free port, on 127.0.0.1)
 *   ALICE_TOKEN    bearer token of alice, an admin (manages endpoints)
 *   BOB_TOKEN      bearer token of bob, a client (may only call /llm/v1)
 *   LLMLB_SECRET   optional: needed only to store upstream api keys (≥ 16 characters)
 */
import { randomBytes } from 'node:crypto';
import express from 'express';
import { createRouter, hashKey } from 'llmlb';
import { llmlb } from 'llmlb/express';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';

// The app's users. A real app would look up a session, verify a JWT or query its database; here
// it is a map from the SHA-256 digest of each bearer token to the user's llmlb role, so the map
// never holds a plaintext token.
/** @type {Map<string, import('llmlb').Principal>} */
const usersByTokenDigest = new Map();

/**
 * @param {string} name
 * @param {import('llmlb').Role} role
 * @param {string | undefined} token
 */
function addUser(name, role, token) {
  if (!token) {
    token = randomBytes(24).toString('base64url');
    console.error(`no token configured for ${name} (${role}); generated for this run: ${token}`);
  }
  usersByTokenDigest.set(hashKey(token), { role, name });
}
addUser('alice', 'admin', process.env.ALICE_TOKEN);
addUser('bob', 'client', process.env.BOB_TOKEN);

/**
 * The app's own authentication, handed to llmlb as its `auth` option. It gets Node's request and
 * returns the caller (`{ role, name }`) or null (llmlb then answers 401). It may be async.
 *
 * @type {import('llmlb').AuthFunction}
 */
function authenticate(req) {
  const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (!token) return null;
  return usersByTokenDigest.get(hashKey(token)) ?? null;
}

/** @type {import('llmlb').RouterOptions} */
const options = {
  auth: authenticate,
  // Default storage is in memory: endpoints are forgotten on exit. Use sqliteStorage() to keep them.
  ...(process.env.LLMLB_SECRET ? { secret: process.env.LLMLB_SECRET } : {}),
};
const router = createRouter(options);
await router.start();

const app = express();

// The app's own routes.
app.get('/', (_req, res) => {
  res.json({ app: 'express example', llm: { admin: '/llm/v0', openai: '/llm/v1' } });
});
app.get('/health', (_req, res) => {
  res.json({ ok: router.state === 'started' });
});

// llmlb under /llm. Mount it BEFORE body parsers such as express.json(): the proxy forwards the
// original request bytes, which a parser that ran first would have consumed. `llmlb()` returns a
// request middleware and an error middleware; `app.use` takes the pair as is.
app.use('/llm', llmlb(router));

// Body parsers for the app's own routes go after llmlb.
app.use(express.json());

const server = app.listen(port, host, (err) => {
  if (err) throw err;
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`listening on http://${host.includes(':') ? `[${host}]` : host}:${address.port}`);
});

// Graceful stop: finish in-flight requests (10 s at most), then stop the router.
async function shutdown() {
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeIdleConnections();
  const force = setTimeout(() => server.closeAllConnections(), 10_000);
  force.unref();
  await closed;
  await router.stop();
}
const onSignal = () =>
  shutdown().catch((err) => {
    console.error('shutdown failed:', err);
    process.exitCode = 1;
  });
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
