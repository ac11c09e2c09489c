/**
 * A real OpenAI/Ollama-like HTTP server on 127.0.0.1 (ephemeral port) for integration tests.
 * Its behaviour is mutable between requests: models, response shape, delays, forced status
 * codes, required api key; it counts requests and the concurrency it observed, and can be
 * stopped and restarted on the same port to simulate outages.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the fake upstream received. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** Custom handler for a path; return true when it handled the request. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

export interface FakeUpstreamOptions {
  /** `openai` → `{"object":"list","data":[{"id"}]}`; `ollama` → `{"models":[{"name","model"}]}`. */
  flavor?: 'openai' | 'ollama';
  models?: string[];
  /** Required `Authorization: Bearer …` value, if any. */
  apiKey?: string;
  /** Delay before answering `/v1/models`, in ms. */
  modelsDelayMs?: number;
  /** Ollama version served at `/api/version` (ollama flavor only). */
  version?: string;
  /** Name used in completions. */
  name?: string;
}

export class FakeUpstream {
  flavor: 'openai' | 'ollama';
  models: string[];
  apiKey: string | undefined;
  modelsDelayMs: number;
  version: string;
  /** When set, `/v1/models` answers with this status and a small JSON error. */
  forceStatus: number | undefined;
  /** When set, `/v1/models` answers 200 with this raw body. */
  rawModelsBody: string | undefined;
  /** Name used in completions, to tell upstreams apart. */
  name: string;
  /** Delay before answering an inference request (headers included), in ms. */
  inferenceDelayMs = 0;
  /** When set, inference routes answer with this status and an OpenAI-style error. */
  inferenceStatus: number | undefined;
  /** SSE: number of content events before `[DONE]`, and the gap between them. */
  streamEvents = 5;
  streamGapMs = 0;
  /** SSE: destroy the connection after this many events (simulates a crash mid-stream). */
  dieAfterEvents: number | undefined;
  /**
   * SSE: when set, the status and headers are sent at once, on their own, and the first event
   * waits until this settles (an endpoint that takes its time to produce the first token).
   */
  holdFirstEvent: Promise<unknown> | undefined;
  /** Inference requests whose client went away before they finished. */
  abortedInference = 0;
  /** Extra routes by `METHOD path` (path without any base prefix). */
  readonly routes = new Map<string, RouteHandler>();
  readonly requests: SeenRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  #server: Server | undefined;
  #port = 0;

  constructor(options: FakeUpstreamOptions = {}) {
    this.flavor = options.flavor ?? 'openai';
    this.models = options.models ?? ['llama3.1:8b'];
    this.apiKey = options.apiKey;
    this.modelsDelayMs = options.modelsDelayMs ?? 0;
    this.version = options.version ?? '0.5.7';
    this.name = options.name ?? 'upstream';
  }

  /** Listens (on the previous port when restarting). */
  async start(): Promise<this> {
    const server = createServer((req, res) => void this.#handle(req, res));
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
    return this;
  }

  /** Closes the server and every open connection (an outage). */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get port(): number {
    return this.#port;
  }

  /** Base URL, optionally with a path prefix (one server can pose as many endpoints). */
  url(prefix = ''): string {
    return `http://127.0.0.1:${this.#port}${prefix}`;
  }

  /** Requests to a path (prefix stripped), e.g. `/v1/models`. */
  requestsTo(path: string): SeenRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.on('close', () => this.inFlight--);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/^.*?(?=\/v1\/|\/api\/)/, '');
    this.requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body });

    if (this.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return json(res, 401, { error: { message: 'invalid api key', type: 'invalid_request_error' } });
    }
    const custom = this.routes.get(`${req.method} ${path}`);
    if (custom) return void (await custom(req, res, body));
    if (req.method === 'GET' && path === '/v1/models') return this.#models(res);
    if (req.method === 'POST' && INFERENCE_PATHS.has(path)) return this.#inference(res, path, body);
    if (req.method === 'GET' && path === '/api/version' && this.flavor === 'ollama') {
      return json(res, 200, { version: this.version });
    }
    json(res, 404, { error: { message: `no route ${req.method} ${path}` } });
  }

  async #inference(res: ServerResponse, path: string, body: Buffer): Promise<void> {
    let finished = false;
    res.on('close', () => {
      if (!finished) this.abortedInference++;
    });
    if (this.inferenceDelayMs > 0) await new Promise((r) => setTimeout(r, this.inferenceDelayMs));
    if (res.destroyed) return;
    if (this.inferenceStatus !== undefined) {
      finished = true;
      return json(res, this.inferenceStatus, { error: { message: `forced ${this.inferenceStatus}`, type: 'server_error' } });
    }
    const request = JSON.parse(body.toString('utf8')) as {
      model?: string;
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
      input?: unknown;
      encoding_format?: string;
    };
    const includeUsage = request.stream_options?.include_usage === true;
    const model = request.model ?? 'unknown';
    if (path === '/v1/embeddings') {
      finished = true;
      const inputs = Array.isArray(request.input) ? request.input : [request.input];
      return json(res, 200, {
        object: 'list',
        model,
        data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: encodeEmbedding([0.1, 0.2, 0.3], request.encoding_format) })),
        usage: { prompt_tokens: 1, total_tokens: 1 },
      });
    }
    const content = `hello from ${this.name}`;
    if (!request.stream) {
      finished = true;
      return json(res, 200, {
        id: 'chatcmpl-1',
        object: path === '/v1/completions' ? 'text_completion' : 'chat.completion',
        created: 1,
        model,
        choices: [
          path === '/v1/completions'
            ? { index: 0, text: content, finish_reason: 'stop' }
            : { index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' },
        ],
        usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 },
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (this.holdFirstEvent) {
      res.flushHeaders();
      await this.holdFirstEvent;
    }
    for (let i = 0; i < this.streamEvents; i++) {
      if (this.dieAfterEvents !== undefined && i >= this.dieAfterEvents) {
        res.socket?.destroy();
        return;
      }
      const chunk = {
        id: 'chatcmpl-1',
        object: 'chat.completion.chunk',
        created: 1,
        model,
        choices: [{ index: 0, delta: { content: `${i} ` }, finish_reason: null }],
        ...(includeUsage ? { usage: null } : {}),
      };
      // Wait until the event is handed to the socket, so a crash after it still delivers it.
      await new Promise<void>((resolve) => res.write(`data: ${JSON.stringify(chunk)}\n\n`, () => resolve()));
      if (this.streamGapMs > 0) await new Promise((r) => setTimeout(r, this.streamGapMs));
      if (res.destroyed) return;
    }
    finished = true;
    // OpenAI's last event when `stream_options.include_usage` is set: no choices, the usage.
    const usage = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model, choices: [], usage: { prompt_tokens: 2, completion_tokens: this.streamEvents, total_tokens: 2 + this.streamEvents } };
    res.end(`${includeUsage ? `data: ${JSON.stringify(usage)}\n\n` : ''}data: [DONE]\n\n`);
  }

  async #models(res: ServerResponse): Promise<void> {
    if (this.modelsDelayMs > 0) await new Promise((r) => setTimeout(r, this.modelsDelayMs));
    if (this.forceStatus !== undefined) return json(res, this.forceStatus, { error: { message: 'forced' } });
    if (this.rawModelsBody !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(this.rawModelsBody);
    }
    if (this.flavor === 'ollama') {
      return json(res, 200, { models: this.models.map((name) => ({ name, model: name, size: 1 })) });
    }
    json(res, 200, { object: 'list', data: this.models.map((id) => ({ id, object: 'model', owned_by: 'fake' })) });
  }
}

/** An embedding as floats, or as base64 of little-endian float32 when asked (as the OpenAI SDK does). */
function encodeEmbedding(values: number[], format: string | undefined): number[] | string {
  return format === 'base64' ? Buffer.from(new Float32Array(values).buffer).toString('base64') : values;
}

const INFERENCE_PATHS = new Set(['/v1/chat/completions', '/v1/completions', '/v1/embeddings']);

/** Writes a JSON response. */
export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Starts a fake upstream. */
export function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  return new FakeUpstream(options).start();
}

/** A chat route that holds its answers until opened: see {@link gateChat}. */
export interface ChatGate {
  /** Answers every held request, and every later one at once. */
  open(): void;
  /** Chat requests the upstream holds or answers now. */
  running(): number;
  /** The most chat requests it saw at once. */
  peak(): number;
}

/**
 * Makes `u`'s `POST /v1/chat/completions` hold its answers until the gate opens, counting the
 * inference concurrency the upstream sees (its probes are not counted).
 *
 * @example
 * const held = gateChat(u);
 * await until(() => held.running() === 4);
 * held.open();
 */
export function gateChat(u: FakeUpstream): ChatGate {
  const waiting: (() => void)[] = [];
  let running = 0;
  let peak = 0;
  let opened = false;
  u.routes.set('POST /v1/chat/completions', async (_req, res) => {
    peak = Math.max(peak, ++running);
    if (!opened) await new Promise<void>((resolve) => waiting.push(resolve));
    running--;
    json(res, 200, { id: 'x', object: 'chat.completion', choices: [] });
  });
  return { open: () => ((opened = true), waiting.splice(0).forEach((resolve) => resolve())), running: () => running, peak: () => peak };
}
