/**
 * The operator routes: `/healthz` and `/readyz` (public, cheap), the Prometheus exposition, the
 * live event stream `GET /v0/events` (Server-Sent Events) and the dashboard's files.
 */
import { routerInternals } from '../internals.js';
import { dashboardAsset } from '../dashboard/assets.js';
import type { LiveEvent } from '../observe/events.js';
import { sendJson } from './respond.js';
import type { RouteContext, RouteHandler } from './route.js';

const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const NO_STORE = 'no-store';

/** One event in the SSE wire format. */
function sseFrame(event: LiveEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/** The id a reconnecting client sends (`Last-Event-ID`, or `?last_event_id=`), if valid. */
function lastEventId(ctx: RouteContext): number | undefined {
  const raw = ctx.req.headers['last-event-id'] ?? ctx.query.get('last_event_id') ?? undefined;
  const id = typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Number(raw) : undefined;
  return id;
}

/**
 * `GET /v0/events`: subscribes to the router's hub until the client goes away (or the router
 * stops). A resume from an id no longer kept starts with a `reset` event: reload your state.
 */
async function events(ctx: RouteContext): Promise<void> {
  const { res, req } = ctx;
  const hub = routerInternals(ctx.router).observe.events();
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
  });
  res.write(`retry: 2000\n\n`);
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), hub.options.heartbeatMs).unref();
  const subscription = hub.subscribe(
    { send: (event) => void res.write(sseFrame(event)), end: () => res.end() },
    lastEventId(ctx),
  );
  if (!subscription.resumed) res.write('event: reset\ndata: {}\n\n');
  const done = () => {
    clearInterval(heartbeat);
    subscription.unsubscribe();
  };
  res.once('close', done);
  req.once('close', done);
}

/** `GET /readyz`: 200 when ready, else 503, with what was checked. */
const readyz =
  (requireOnlineEndpoint: boolean): RouteHandler =>
  async (ctx) => {
    const readiness = await routerInternals(ctx.router).observe.readiness(requireOnlineEndpoint);
    sendJson(ctx.res, readiness.ready ? 200 : 503, readiness, { 'cache-control': NO_STORE });
  };

/** Handlers of the operator routes; the route table says who may call them. */
export const observeHandlers = {
  healthz: (async (ctx) => sendJson(ctx.res, 200, { status: 'ok' }, { 'cache-control': NO_STORE })) as RouteHandler,
  readyz,
  metrics: (async (ctx) => {
    const text = await ctx.router.metrics();
    ctx.res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(text), 'cache-control': NO_STORE });
    ctx.res.end(text);
  }) as RouteHandler,
  events: events as RouteHandler,
};

/** Sends one dashboard file (`''`: the app's page). */
async function sendAsset(ctx: RouteContext, file: string): Promise<void> {
  const asset = await dashboardAsset(file);
  ctx.res.writeHead(asset.status, asset.headers);
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : asset.body);
}

/** Handlers of the dashboard: `/dashboard` redirects to `/dashboard/`, which serves the app. */
export const dashboardHandlers = {
  redirect: async (ctx) => {
    const path = (ctx.req.url ?? '').split('?')[0]!;
    if (path.endsWith('/')) return sendAsset(ctx, '');
    // A relative location, right under any mount prefix (Express strips it from `req.url`).
    ctx.res.writeHead(308, { location: 'dashboard/' });
    ctx.res.end();
  },
  file: (ctx) => sendAsset(ctx, ctx.params.file ?? ''),
} satisfies Record<string, RouteHandler>;
