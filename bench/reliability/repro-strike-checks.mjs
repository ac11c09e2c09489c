// Reproduction (not part of the default run): every failed attempt that llmlb fails over from is
// a passive strike, and every strike runs a full health check (GET /v1/models, model sync, one
// stored history row) — not rate-limited. With the default memoryStorage the history rows stay for
// `retentionDays` (30), so the heap grows with the number of failed requests.
//
//   npm run build && node --expose-gc bench/reliability/repro-strike-checks.mjs [requests=20000]
//
// One in-process upstream that answers 503 to every inference request, registered twice (two
// endpoints), so each request is one strike on the first endpoint tried, then the second
// endpoint's 503 is relayed.
import { createServer } from 'node:http';
import { createRouter, memoryStorage } from '../../dist/index.js';
import { toNodeHandler } from '../../dist/node.js';

const N = Math.min(Number(process.argv[2] ?? 20_000), 200_000);
const KEY = 'repro-client-key-0123456789';
const upstream = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url.endsWith('/v1/models')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"object":"list","data":[{"id":"m"}]}');
    }
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"busy"}}');
  });
});
await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${upstream.address().port}`;

const storage = memoryStorage();
const router = createRouter({ storage, auth: { keys: [{ key: KEY, role: 'client' }] } });
await router.start();
const a = await router.endpoints.create({ name: 'a', base_url: `${base}/a` });
const b = await router.endpoints.create({ name: 'b', base_url: `${base}/b` });
await router.checker.idle();
let checks = 0;
router.checker.on('check', () => checks++);
const server = createServer(toNodeHandler(router));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/v1/chat/completions`;

const heap = () => {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
};
const before = heap();
const deadline = Date.now() + 120_000;
let sent = 0;
for (; sent < N && Date.now() < deadline; sent++) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: '{"model":"m"}',
  });
  await res.arrayBuffer();
}
await router.checker.idle();
const rows = (await storage.listHealthChecks(a.id)).length + (await storage.listHealthChecks(b.id)).length;
const grown = heap() - before;
console.log(
  `${sent} requests (each: one 503 failed over, one 503 relayed) → ${checks} health checks, ${rows} history rows kept; ` +
    `heap ${grown >= 0 ? '+' : ''}${(grown / 2 ** 20).toFixed(1)} MB${globalThis.gc ? '' : ' (run with --expose-gc for a steadier figure)'}`,
);
server.closeAllConnections();
server.close();
upstream.closeAllConnections();
upstream.close();
await router.stop();
