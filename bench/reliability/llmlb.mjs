// llmlb behind node:http, as its own process, for the reliability benchmark. It registers the
// endpoints it is given, waits (bounded) until they are online with their models synced, then
// serves on 127.0.0.1 and watches itself:
//   - `request` events: latency by number of attempts, outcomes, per-endpoint traffic;
//   - the logger: every failed upstream attempt, with its time and endpoint;
//   - the health checker: every check, with its time, endpoint and result.
// It answers IPC messages: `summary` (what it saw), `handles` (process.getActiveResourcesInfo()
// and memory, after a GC when run with --expose-gc), `watch` (start looking for the first request
// an endpoint serves from now on), `endpoint` (that endpoint's traffic and status), `shutdown`.
//
// Config (JSON in argv[2]):
//   endpoints  [{ name, base_url }]
//   interval   health_check_interval_secs of every endpoint (default 30)
//   selector   'round-robin' | 'latency' | 'least-busy' (default 'latency', llmlb's default)
//   proxy      llmlb `proxy` options (default: llmlb's defaults)
//   collect    'full' (default) or 'counters' (O(1) memory: for the memory/handle scenario)
//   synthetic  [{ origin, models }]: health checks of these origins are answered in-process with
//              this model list (used to keep an endpoint with nothing listening `online`)
//   maxMs      exits by itself after this long (default 10 min)
import { createServer } from 'node:http';
import { createRouter, latencySelector, leastBusySelector, roundRobinSelector } from '../../dist/index.js';
import { toNodeHandler } from '../../dist/node.js';
import { waitOnline } from '../common.mjs';
import { ADMIN_KEY, CLIENT_KEY, exitWithParent, now, summarize } from './lib.mjs';

const config = JSON.parse(process.argv[2] ?? '{}');
const full = (config.collect ?? 'full') === 'full';
const CAP = 20_000;

const names = new Map(); // endpoint id → name
const nameOf = (id) => names.get(id) ?? String(id);

// ---- what we record --------------------------------------------------------------------------
const outcomes = {}; // "status error" → count
const byAttempts = new Map(); // attempts → [duration_ms] (full mode)
const beforeLast = new Map(); // attempts → [duration_ms − ttfb_ms]: time outside the answering attempt's wait for headers
const timeline = []; // [end time, attempts, duration_ms] of every request (full mode)
const retried = []; // requests that needed more than one attempt: { attempts, duration_ms, ttfb_ms, status, endpoint }
const perEndpoint = {}; // name → { served, lastServedAt, firstServedSinceWatch, watchSince }
const failures = {}; // name → [{ t, what, reason }]
const failureCounts = {}; // name → n
const checks = []; // { t, name, success, status, kind }
const checkCounts = {}; // name → n
let events = 0;
let streamedEvents = 0;
let streamErrors = 0;

const endpointEntry = (name) => (perEndpoint[name] ??= { served: 0, lastServedAt: null, firstServedSinceWatch: null, watchSince: null });

function onRequest(e) {
  events++;
  const key = `${e.status} ${e.error ?? '-'}`;
  outcomes[key] = (outcomes[key] ?? 0) + 1;
  if (e.streamed) {
    streamedEvents++;
    if (e.error) streamErrors++;
  }
  if (!full) return;
  let list = byAttempts.get(e.attempts);
  if (!list) byAttempts.set(e.attempts, (list = []));
  if (list.length < 1_000_000) list.push(e.duration_ms);
  if (timeline.length < 1_000_000) timeline.push([Math.round(now() * 10) / 10, e.attempts, e.duration_ms]);
  if (e.ttfb_ms !== null) {
    let other = beforeLast.get(e.attempts);
    if (!other) beforeLast.set(e.attempts, (other = []));
    if (other.length < 1_000_000) other.push(e.duration_ms - e.ttfb_ms);
  }
  if (e.attempts > 1 && retried.length < CAP) {
    retried.push({ t: now(), attempts: e.attempts, duration_ms: e.duration_ms, ttfb_ms: e.ttfb_ms, status: e.status, endpoint: e.endpoint_name });
  }
  if (e.status === 200 && e.endpoint_name) {
    const entry = endpointEntry(e.endpoint_name);
    const t = now();
    entry.served++;
    entry.lastServedAt = t;
    if (entry.watchSince !== null && entry.firstServedSinceWatch === null) entry.firstServedSinceWatch = t;
  }
}

const noop = () => {};
const logger = {
  debug: noop,
  info: noop,
  error: noop,
  warn(obj, msg) {
    if (typeof obj !== 'object' || obj === null || typeof obj.endpoint_id !== 'string') return;
    if (msg !== 'upstream attempt failed' && msg !== 'upstream failed mid-response') return;
    const name = nameOf(obj.endpoint_id);
    failureCounts[name] = (failureCounts[name] ?? 0) + 1;
    if (!full) return;
    const list = (failures[name] ??= []);
    if (list.length < CAP) list.push({ t: now(), what: msg === 'upstream attempt failed' ? 'attempt' : 'mid-response', reason: obj.reason ?? null });
  },
};

// ---- the router --------------------------------------------------------------------------------
const selectors = { 'round-robin': roundRobinSelector, latency: latencySelector, 'least-busy': leastBusySelector };
const synthetic = new Map((config.synthetic ?? []).map((s) => [s.origin, s.models]));
const realFetch = globalThis.fetch;
const router = createRouter({
  auth: {
    keys: [
      { key: CLIENT_KEY, role: 'client' },
      { key: ADMIN_KEY, role: 'admin' },
    ],
  },
  logger,
  selector: (selectors[config.selector ?? 'latency'] ?? latencySelector)(),
  ...(config.proxy ? { proxy: config.proxy } : {}),
  ...(synthetic.size > 0
    ? {
        fetch: (input, init) => {
          const models = synthetic.get(new URL(input).origin);
          if (!models) return realFetch(input, init);
          const body = JSON.stringify({ object: 'list', data: models.map((id) => ({ id, object: 'model', owned_by: 'bench' })) });
          return Promise.resolve(new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }));
        },
      }
    : {}),
});
router.on('request', onRequest);
router.checker.on('check', ({ endpoint, report }) => {
  checkCounts[endpoint.name] = (checkCounts[endpoint.name] ?? 0) + 1;
  if (full && checks.length < CAP) {
    checks.push({ t: now(), name: endpoint.name, success: report.success, status: endpoint.status, kind: report.success ? null : report.kind });
  }
});
await router.start();

const server = createServer(toNodeHandler(router));
exitWithParent(config.maxMs ?? 600_000, () => server.closeAllConnections());

const ids = [];
for (const { name, base_url } of config.endpoints) {
  const created = await router.endpoints.create({ name, base_url, health_check_interval_secs: config.interval ?? 30 });
  names.set(created.id, name);
  ids.push(created.id);
}
// Every endpoint online with its models synced, within 10 s (public API: router.endpoints.list()).
await router.checker.idle();
await waitOnline(router, ids.length, { timeoutMs: 10_000 });

/** The endpoint's current status (public API), or null when it no longer exists. */
const statusOf = (id) =>
  router.endpoints.get(id).then(
    (e) => e.status,
    () => null,
  );

// ---- IPC ---------------------------------------------------------------------------------------
function countTypes(list) {
  const out = {};
  for (const type of list) out[type] = (out[type] ?? 0) + 1;
  return out;
}

process.on('message', async (msg) => {
  if (msg?.type === 'watch') {
    const entry = endpointEntry(msg.name);
    entry.watchSince = now();
    entry.firstServedSinceWatch = null;
    process.send({ type: 'watch', since: entry.watchSince });
  } else if (msg?.type === 'endpoint') {
    const id = [...names].find(([, n]) => n === msg.name)?.[0];
    process.send({ type: 'endpoint', ...endpointEntry(msg.name), status: id === undefined ? null : await statusOf(id) });
  } else if (msg?.type === 'handles') {
    globalThis.gc?.();
    globalThis.gc?.();
    process.send({
      type: 'handles',
      resources: countTypes(process.getActiveResourcesInfo()),
      memory: process.memoryUsage(),
      events,
      checkCounts,
      failureCounts,
    });
  } else if (msg?.type === 'summary') {
    const { endpoints } = await router.endpoints.list();
    const statuses = new Map(endpoints.map((e) => [e.id, e.status]));
    const latency = {};
    for (const [attempts, list] of byAttempts) latency[attempts] = summarize(list);
    const outsideTtfb = {};
    for (const [attempts, list] of beforeLast) outsideTtfb[attempts] = summarize(list);
    process.send({
      type: 'summary',
      events,
      streamedEvents,
      streamErrors,
      outcomes,
      latency,
      outsideTtfb,
      retried,
      ...(msg.timeline ? { timeline } : {}),
      perEndpoint,
      failures,
      failureCounts,
      checks,
      checkCounts,
      status: Object.fromEntries(ids.map((id) => [nameOf(id), statuses.get(id) ?? 'deleted'])),
    });
  }
});

server.listen(0, '127.0.0.1', () => {
  process.send({ type: 'ready', port: server.address().port, pid: process.pid, endpoints: Object.fromEntries(names) });
});
