/**
 * When the client gets a proxied response's status and headers, against a real fake upstream on
 * 127.0.0.1: an event stream's at once, even before its first event; any other response's with
 * its body, in one write.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RouterOptions } from '../../src/router.js';
import type { EndpointStatsView } from '../../src/select/types.js';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.js';
import { CLIENT_KEY, type LlmlbServer, startLlmlb, until } from '../helpers/llmlb-server.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** An upstream, and llmlb with it registered and online. */
async function setup(options: RouterOptions = {}): Promise<{ u: FakeUpstream; s: LlmlbServer; id: string }> {
  const u = await startFakeUpstream();
  stops.push(() => u.stop());
  const s = await startLlmlb({ checker: { timeoutMs: 2000 }, ...options });
  stops.push(() => s.close());
  const { status, body } = await s.admin('POST', '/v0/endpoints', { name: 'gpu-1', base_url: u.url() });
  expect(status).toBe(201);
  await s.router.checker.idle();
  return { u, s, id: body.id as string };
}

const chat = (stream: boolean) => JSON.stringify({ model: 'llama3.1:8b', stream, messages: [{ role: 'user', content: 'hi' }] });

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** POSTs `body` to llmlb over a raw socket; resolves with the response as the client read it, chunk by chunk. */
function rawPost(s: LlmlbServer, path: string, body: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const chunks: string[] = [];
    const socket = connect(Number(new URL(s.url).port), '127.0.0.1', () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${CLIENT_KEY}\r\n` +
          `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk.toString('latin1')));
    socket.on('end', () => resolve(chunks));
    socket.on('error', reject);
  });
}

describe('response headers', () => {
  it("sends an event stream's status and headers as soon as the upstream does, before its first event", async () => {
    const { u, s, id } = await setup();
    const firstEvent = gate();
    u.holdFirstEvent = firstEvent.opened;
    // The upstream sends its first event only after the client has the headers: had llmlb kept
    // them back for that event, this would wait until the test times out.
    const res = await fetch(`${s.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
      body: chat(true),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('x-llmlb-endpoint')).toBe(id);
    firstEvent.open();
    const text = await res.text();
    expect(text).toContain('"content":"0 "');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
  }, 5_000);

  it("sends a non-streamed response's headers with its body, even when the upstream sent them early", async () => {
    // A selector that hands the test the live stats: they show when llmlb has the upstream's headers.
    let stats: EndpointStatsView | undefined;
    const { u, s, id } = await setup({
      selector: (candidates, context) => {
        stats = context.stats;
        return candidates[0];
      },
    });
    const body = gate();
    const payload = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [] });
    u.routes.set('POST /v1/chat/completions', async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
      res.flushHeaders();
      await body.opened;
      res.end(payload);
    });
    const response = rawPost(s, '/v1/chat/completions', chat(false));
    // llmlb has the headers, and its event loop has turned since, while the body is still held.
    await until(() => stats?.latencyMs(id) != null);
    body.open();
    const chunks = await response;
    expect(chunks[0]).toMatch(/^HTTP\/1\.1 200 /);
    expect(chunks[0]).toContain(`content-length: ${Buffer.byteLength(payload)}`);
    expect(chunks[0]).toContain(`x-llmlb-endpoint: ${id}`);
    expect(chunks[0]!.endsWith(`\r\n\r\n${payload}`)).toBe(true);
  });
});
