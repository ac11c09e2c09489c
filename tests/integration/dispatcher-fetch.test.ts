/** The default check `fetch` on an undici Agent, against a real server on 127.0.0.1. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatcherFetch } from '../../src/health/dispatcher-fetch.js';

let server: Server;
let base: string;
const agent = new Agent();
const fetchVia = dispatcherFetch(agent);

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/big') {
      res.writeHead(404, { 'content-type': 'text/plain', 'x-multi': ['a', 'b'] });
      // Several chunks, so data keeps arriving after the consumer cancels.
      let n = 0;
      const pump = () => {
        while (n++ < 64) if (!res.write(Buffer.alloc(64 * 1024, 'x'))) return void res.once('drain', pump);
        res.end();
      };
      return pump();
    }
    if (req.url === '/empty') return void res.writeHead(204).end();
    if (req.url === '/missing') {
      res.writeHead(404, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: { message: `no route ${req.url}` } }));
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url, auth: req.headers.authorization ?? null }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await agent.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('dispatcherFetch', () => {
  it('returns status, headers and body, sending the given headers', async () => {
    const res = await fetchVia(`${base}/v1/models?x=1`, { headers: { authorization: 'Bearer k' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ path: '/v1/models?x=1', auth: 'Bearer k' });
  });

  it('lets a consumer cancel a body that is still arriving, without stray errors', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await fetchVia(`${base}/big`, {});
      expect(res.status).toBe(404);
      expect(res.headers.get('x-multi')).toBe('a, b');
      const reader = res.body!.getReader();
      await reader.read();
      await reader.cancel();
    }
    // Cancelled before reading anything, as a check does with an error answer.
    for (let i = 0; i < 5; i++) {
      const res = await fetchVia(`${base}/missing`, {});
      await res.body!.cancel();
    }
    // The pool still works afterwards.
    expect((await fetchVia(`${base}/ok`, {})).status).toBe(200);
  });

  it('handles bodiless answers and aborts', async () => {
    const empty = await fetchVia(`${base}/empty`, {});
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    const controller = new AbortController();
    controller.abort(new DOMException('stop', 'TimeoutError'));
    await expect(fetchVia(`${base}/ok`, { signal: controller.signal })).rejects.toMatchObject({ name: 'TimeoutError' });
  });
});
