/**
 * An upstream that listens on a port the WHATWG fetch standard calls "bad" (6000, 6665–6669,
 * 10080, 5060, 4190, …) must be usable like any other. Found while fuzzing base URLs: health
 * checks, connection tests and sync go through undici's `fetch`, which refuses those ports
 * outright ("network error"), while the proxy (undici `request`) would reach them — so such an
 * endpoint is registered (201) but can never become `online`.
 */
import { type Server, createServer } from 'node:http';
import { afterEach, expect, it } from 'vitest';
import { type LlmlbServer, startLlmlb } from '../helpers/llmlb-server.js';

/** Ports on the fetch standard's block list that an unprivileged process may bind. */
const FETCH_BAD_PORTS = [10080, 6566, 6679, 6697, 4190, 5060, 5061, 6000, 6665, 6666, 6667, 6668, 6669, 4045, 3659, 2049, 1723, 1720, 1719];

let upstream: Server | undefined;
let llmlb: LlmlbServer | undefined;

afterEach(async () => {
  await llmlb?.close();
  llmlb = undefined;
  if (upstream) {
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream!.close(() => resolve()));
    upstream = undefined;
  }
});

/** Listens on the first free port of the list. */
async function listenOnBadPort(server: Server): Promise<number> {
  for (const port of FETCH_BAD_PORTS) {
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) return port;
  }
  throw new Error(`none of the ports ${FETCH_BAD_PORTS.join(', ')} is free`);
}

it('an endpoint on a fetch "bad port" can be tested, synced and becomes online', async () => {
  upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [{ id: 'llama3.1:8b', object: 'model' }] }));
  });
  const port = await listenOnBadPort(upstream);
  llmlb = await startLlmlb({ checker: false });
  const created = await llmlb.admin('POST', '/v0/endpoints', { name: 'odd-port', base_url: `http://127.0.0.1:${port}` });
  expect(created.status).toBe(201);
  const test = await llmlb.admin('POST', `/v0/endpoints/${created.body.id}/test`);
  expect(test.body, `port ${port}`).toMatchObject({ success: true, endpoint_info: { model_count: 1 } });
  const sync = await llmlb.admin('POST', `/v0/endpoints/${created.body.id}/sync`);
  expect(sync.status, `port ${port}: ${JSON.stringify(sync.body)}`).toBe(200);
  expect((await llmlb.admin('GET', `/v0/endpoints/${created.body.id}`)).body.status).toBe('online');
});
