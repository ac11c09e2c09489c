/**
 * `GET /v0/events` on a real server: roles, endpoint/status/check/model events, the traffic
 * summary, heartbeats, `Last-Event-ID` resume, client disconnect, and no memory or listener
 * left after 1 000 subscribe/unsubscribe cycles.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { routerInternals } from '../../src/internals.js';
import { ADMIN_KEY, CLIENT_KEY, VIEWER_KEY, until, useFixtures } from '../helpers/llmlb-server.js';
import { openSse } from '../helpers/sse.js';

const { upstream, llmlb, register } = useFixtures();
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const FAST = { events: { trafficIntervalMs: 100, heartbeatMs: 100 } };

describe('GET /v0/events', () => {
  it('is for admin and viewer keys', async () => {
    const s = await llmlb(FAST);
    expect((await fetch(`${s.url}/v0/events`)).status).toBe(401);
    expect((await fetch(`${s.url}/v0/events`, { headers: bearer(CLIENT_KEY) })).status).toBe(403);
    const stream = await openSse(`${s.url}/v0/events`, bearer(VIEWER_KEY));
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    stream.close();
  });

  it('streams endpoint changes, status, checks, models and traffic, with heartbeats', async () => {
    const s = await llmlb(FAST);
    const stream = await openSse(`${s.url}/v0/events`, bearer(ADMIN_KEY));
    const u = await upstream({ name: 'gpu-1' });
    const id = await register(s, u);
    expect((await stream.next('endpoint.added')).data.endpoint).toMatchObject({ id, name: 'gpu-1', status: 'pending', has_api_key: false });
    // The store announces the transition as it records the check; the check event follows.
    expect((await stream.next('endpoint.status')).data).toEqual({ endpoint_id: id, name: 'gpu-1', from: 'pending', to: 'online' });
    const check = await stream.next('check');
    expect(check.data).toMatchObject({ endpoint_id: id, name: 'gpu-1', success: true, status_before: 'pending', status_after: 'online' });
    await stream.next('models.changed');
    await s.infer('/v1/chat/completions', { model: 'llama3.1:8b', messages: [], stream: true, stream_options: { include_usage: true } }).then((r) => r.text());
    const traffic = await stream.next('traffic');
    expect(traffic.data.endpoints[0]).toMatchObject({ endpoint_id: id, endpoint_name: 'gpu-1', requests: 1, errors: 0, tokens: 7, in_flight: 0 });
    expect(traffic.data.requests[0]).toMatchObject({ route: 'chat', status: 200, streamed: true, key_name: null });
    await s.admin('DELETE', `/v0/endpoints/${id}`);
    expect((await stream.next('endpoint.removed')).data).toEqual({ endpoint_id: id, name: 'gpu-1' });
    await until(() => stream.comments.includes(': heartbeat'));
    stream.close();
  });

  it('resumes after Last-Event-ID, and says reset when the id is no longer kept', async () => {
    const s = await llmlb({ events: { trafficIntervalMs: 60_000 } });
    const first = await openSse(`${s.url}/v0/events`, bearer(ADMIN_KEY));
    const u = await upstream();
    const id = await register(s, u);
    const added = await first.next('endpoint.added');
    first.close();
    const second = await openSse(`${s.url}/v0/events`, { ...bearer(ADMIN_KEY), 'last-event-id': added.id! });
    const replayed = await second.next('check');
    expect(replayed.data.endpoint_id).toBe(id);
    expect(Number(replayed.id)).toBeGreaterThan(Number(added.id));
    second.close();
    const stale = await openSse(`${s.url}/v0/events?last_event_id=999999`, bearer(ADMIN_KEY));
    await stale.next('reset');
    stale.close();
  });

  it('lets go of a client that disconnects, and stops listening when none is left', async () => {
    const s = await llmlb(FAST);
    const internals = routerInternals(s.router);
    const hub = internals.observe.events();
    const listeners = () => internals.store.listenerCount('endpointAdded') + s.router.listenerCount('request') + s.router.checker.listenerCount('check');
    const idle = listeners();
    const stream = await openSse(`${s.url}/v0/events`, bearer(VIEWER_KEY));
    await until(() => hub.subscribers === 1);
    expect(listeners()).toBe(idle + 3);
    stream.close();
    await until(() => hub.subscribers === 0);
    expect(listeners()).toBe(idle);
  });

  it('holds no memory after 1 000 subscribe/unsubscribe cycles', async () => {
    const s = await llmlb(FAST);
    const internals = routerInternals(s.router);
    const hub = internals.observe.events();
    const idle = s.router.listenerCount('request');
    const idleStore = internals.store.listenerCount('statusChanged');
    const cycle = async () => {
      const stream = await openSse(`${s.url}/v0/events`, bearer(VIEWER_KEY));
      stream.close();
    };
    for (let i = 0; i < 100; i++) await Promise.all(Array.from({ length: 10 }, cycle));
    await until(() => hub.subscribers === 0);
    expect(s.router.listenerCount('request')).toBe(idle);
    expect(internals.store.listenerCount('statusChanged')).toBe(idleStore);
    // Nothing happened: nothing was kept (quiet traffic intervals are not events).
    expect(hub.kept).toBe(0);
    // The same in-process, 1 000 more times: the heap does not grow with the cycles.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heap = () => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    const cycles = (n: number) => {
      for (let i = 0; i < n; i++) hub.subscribe({ send: () => {}, end: () => {} }).unsubscribe();
    };
    // Warm up first: the code's bytecode and feedback, allocated on its first runs, are not a leak.
    cycles(1000);
    const before = heap();
    cycles(1000);
    expect(hub.subscribers).toBe(0);
    expect(heap() - before).toBeLessThan(512 * 1024);
  });

  it('ends open streams when the router stops', async () => {
    const s = await llmlb(FAST);
    const stream = await openSse(`${s.url}/v0/events`, bearer(ADMIN_KEY));
    const hub = routerInternals(s.router).observe.events();
    await until(() => hub.subscribers === 1);
    await s.router.stop();
    expect(hub.subscribers).toBe(0);
    stream.close();
  });
});
