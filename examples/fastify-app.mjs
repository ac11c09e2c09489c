// @ts-check
/**
 * llmlb as a Fastify 5 plugin under `/llm`, next to the app's own routes.
 *
 *   npm run build
 *   LLMLB_ADMIN_KEY=change-me-to-a-long-admin-key PORT=3000 node examples/fastify-app.mjs
 *
 * Environment:
 *   PORT, HOST        where to listen (default 0 = any free port, on 127.0.0.1)
 *   LLMLB_ADMIN_KEY   bearer key of the admin role (≥ 16 characters)
 *   LLMLB_CLIENT_KEY  optional: bearer key that may only call /llm/v1 (≥ 16 characters)
 *   LLMLB_SECRET      optional: needed only to store upstream api keys (≥ 16 characters)
 */
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { createRouter } from 'llmlb';
import { llmlbPlugin } from 'llmlb/fastify';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';

let adminKey = process.env.LLMLB_ADMIN_KEY;
if (!adminKey) {
  adminKey = `llmlb_${randomBytes(24).toString('base64url')}`;
  console.error(`LLMLB_ADMIN_KEY is not set: generated admin key for this run: ${adminKey}`);
}
/** @type {import('llmlb').AuthKey[]} */
const keys = [{ key: adminKey, role: 'admin', name: 'admin' }];
if (process.env.LLMLB_CLIENT_KEY) keys.push({ key: process.env.LLMLB_CLIENT_KEY, role: 'client', name: 'client' });

/** @type {import('llmlb').RouterOptions} */
const options = {
  auth: { keys },
  // Default storage is in memory: endpoints are forgotten on exit. Use sqliteStorage() to keep them.
  ...(process.env.LLMLB_SECRET ? { secret: process.env.LLMLB_SECRET } : {}),
};
const router = createRouter(options);
await router.start();

const app = Fastify();

// The app's own route.
app.get('/', async () => ({ app: 'fastify example', llm: { admin: '/llm/v0', openai: '/llm/v1' } }));

// llmlb's /v0 and /v1 under /llm. Register the plugin as is (not wrapped in fastify-plugin): it
// installs a raw-body content-type parser that must stay inside its own encapsulation context,
// so the app's routes keep Fastify's JSON parsing.
await app.register(llmlbPlugin, { router, prefix: '/llm' });

// app.close() (below) waits for in-flight requests, then runs this hook: stop the router last.
app.addHook('onClose', async () => {
  await router.stop();
});

// listen() resolves with the URL, e.g. http://127.0.0.1:3000.
const url = await app.listen({ port, host });
console.log(`listening on ${url}`);

const onSignal = () =>
  app.close().catch((err) => {
    console.error('shutdown failed:', err);
    process.exitCode = 1;
  });
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
