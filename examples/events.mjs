// @ts-check
/**
 * Watching a router: health-checker events (status changes, endpoints going online/offline,
 * model syncs) and one `request` event per proxied request, each logged as one line. Swap the
 * console for your logger, metrics or alerting.
 *
 *   npm run build
 *   LLMLB_ADMIN_KEY=change-me-to-a-long-admin-key UPSTREAM_URL=http://127.0.0.1:11434 \
 *     PORT=8080 node examples/events.mjs
 *
 * Environment:
 *   PORT, HOST       where to listen (default 0 = any free port, on 127.0.0.1)
 *   LLMLB_ADMIN_KEY  bearer key of the admin role (≥ 16 characters)
 *   UPSTREAM_URL     optional: an OpenAI-compatible server to register at start
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createRouter } from 'llmlb';
import { toNodeHandler } from 'llmlb/node';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? '127.0.0.1';

let adminKey = process.env.LLMLB_ADMIN_KEY;
if (!adminKey) {
  adminKey = `llmlb_${randomBytes(24).toString('base64url')}`;
  console.error(`LLMLB_ADMIN_KEY is not set: generated admin key for this run: ${adminKey}`);
}

/** @type {import('llmlb').RouterOptions} */
const options = {
  auth: { keys: [{ key: adminKey, role: 'admin', name: 'admin' }] },
};
const router = createRouter(options);

// Subscribe before start(): start() launches the first round of health checks at once.
const { checker } = router;

// Every status transition: pending → online, online → offline, offline → online, … → error.
checker.on('statusChange', ({ endpoint, from, to }) => {
  console.log(`[statusChange] ${endpoint.name}: ${from} -> ${to}`);
});
// The endpoint can take traffic (again).
checker.on('online', ({ endpoint }) => {
  console.log(`[online] ${endpoint.name} ${endpoint.base_url} latency=${endpoint.latency_ms}ms`);
});
// The endpoint became unusable (offline, or error such as a rejected api key).
checker.on('offline', ({ endpoint, to }) => {
  console.log(`[offline] ${endpoint.name} ${endpoint.base_url} status=${to} error=${JSON.stringify(endpoint.last_error)}`);
});
// A successful check stored the endpoint's model list (added/removed/updated model ids).
checker.on('synced', ({ endpoint, diff }) => {
  const changes = `+${diff.added.length} -${diff.removed.length} ~${diff.updated.length}`;
  console.log(`[synced] ${endpoint.name}: ${changes} ${JSON.stringify(diff.added)}`);
});
// Internal failures (e.g. storage errors); the checker keeps running.
checker.on('error', ({ endpoint_id, error }) => {
  console.error(`[checker error] ${endpoint_id ?? '-'}: ${error.code} ${error.message}`);
});

// One event per proxied /v1 request, after it ended. Only built while someone listens.
router.on('request', (e) => {
  const target = e.endpoint_name ?? '-';
  const ttfb = e.ttfb_ms === null ? '-' : e.ttfb_ms.toFixed(1); // times are fractional milliseconds
  const error = e.error ? ` error=${e.error}` : '';
  console.log(
    `[request] ${e.route} model=${e.model} -> ${target} status=${e.status} attempts=${e.attempts} ` +
      `ttfb=${ttfb}ms total=${e.duration_ms.toFixed(1)}ms${e.streamed ? ' streamed' : ''}${error}`,
  );
});

await router.start();

if (process.env.UPSTREAM_URL) {
  const endpoint = await router.endpoints.create({ name: 'upstream', base_url: process.env.UPSTREAM_URL });
  console.log(`registered ${endpoint.name} (${endpoint.base_url}), status ${endpoint.status}`);
}

const server = createServer(toNodeHandler(router));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, host, () => resolve(undefined));
});
const address = /** @type {import('node:net').AddressInfo} */ (server.address());
console.log(`listening on http://${host.includes(':') ? `[${host}]` : host}:${address.port}`);

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
