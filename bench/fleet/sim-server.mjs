// A simulated OpenAI-compatible inference server on 127.0.0.1: a fixed number of decode slots
// (vLLM max_num_seqs, OLLAMA_NUM_PARALLEL, llama.cpp -np), a FIFO queue beyond them (optionally
// bounded: a full queue answers 503 at once, as Ollama does), prefill time proportional to the
// prompt, and continuous-batching decode whose step time grows with the batch. Timer-driven, so
// many of them share one process cheaply. Durations in the spec are real-world ms, scaled here by
// `timeScale`.
import { createServer } from 'node:http';
import { stepMs } from './config.mjs';
import { modelEntry, nativeRoute } from './native-routes.mjs';

const TOKEN = ' tok';
let nextId = 0;

/** One simulated server. `listen()` it, then read `url`, `arrived` and its live queue and slots. */
export class SimServer {
  /**
   * @param spec a fleet server entry; @param options `{ timeScale, model, publish }` — publish:
   * answer the engine's own routes with its load figures (bench/fleet/native-routes.mjs)
   */
  constructor(spec, { timeScale, model, publish = false }) {
    this.spec = spec;
    this.publish = publish;
    this.scale = timeScale;
    this.model = model;
    this.rtt = spec.rttMs * timeScale;
    /** Sequences holding a slot (prefill or decode), and requests waiting for one (FIFO). */
    this.slots = [];
    this.queue = [];
    /** Requests from llmlb that reached the server (after the network delay), including rejected ones. */
    this.arrived = 0;
    /** bypass: requests sent straight to the server by other clients (not through llmlb). */
    this.counts = { served: 0, rejected: 0, abandoned: 0, tokens: 0, maxQueue: 0, bypass: 0 };
    this.tick = null;
    this.due = 0;
    this.models = JSON.stringify({ object: 'list', data: [modelEntry(spec, model)] });
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 120_000;
  }

  /** Starts listening on an ephemeral port of 127.0.0.1; resolves the server. */
  listen() {
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => {
        this.url = `http://127.0.0.1:${this.server.address().port}`;
        resolve(this);
      });
    });
  }

  /** Closes the listener and every connection. */
  close() {
    clearTimeout(this.tick);
    this.server.closeAllConnections();
    this.server.close();
  }

  /** Simulated ms of one decode step with `batch` sequences. */
  stepMs(batch) {
    return stepMs(this.spec, batch) * this.scale;
  }

  /** Simulated ms to prefill a prompt of `tokens` tokens. */
  prefillMs(tokens) {
    return this.spec.prefillMsPerToken * tokens * this.scale;
  }

  /** What the bench reports about this server after a run. */
  stats() {
    return { name: this.spec.name, arrived: this.arrived, ...this.counts };
  }

  /** The HTTP handler: `GET /v1/models`, `POST /v1/chat/completions` and the engine's own routes. */
  handle(req, res) {
    if (req.method === 'GET' && req.url === '/v1/models') {
      // The probe's latency is the network distance only, never the load, and in real-world ms:
      // it is not part of the accelerated workload, and selectors only compare it across endpoints.
      setTimeout(() => send(res, 200, this.models), this.spec.rttMs);
      return;
    }
    const native = nativeRoute(this, req.method, req.url);
    if (native !== null) {
      // The figures are read when the answer leaves, after the network delay.
      setTimeout(() => {
        const [type, text] = native();
        send(res, 200, text, type);
      }, this.spec.rttMs);
      return;
    }
    if (req.method !== 'POST' || !req.url.startsWith('/v1/chat/completions')) return send(res, 404, errorBody('not found'));
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(res, 400, errorBody('invalid JSON'));
      }
      const seq = newSequence(body, res, this.model);
      seq.bypass = req.headers['x-bench-bypass'] === '1';
      res.on('close', () => this.abandon(seq));
      setTimeout(() => this.arrive(seq), this.rtt);
    });
  }

  /** A request reaches the server (after the network delay): queued, or 503 when the bounded queue is full. */
  arrive(seq) {
    if (seq.bypass) this.counts.bypass++;
    else this.arrived++;
    if (seq.res.destroyed) return;
    const full = this.slots.length >= this.spec.slots;
    const bound = this.spec.maxQueue;
    if (full && bound !== null && bound !== undefined && this.queue.length >= bound) {
      this.counts.rejected++;
      seq.done = true;
      return send(seq.res, 503, errorBody('server busy, please try again. maximum pending requests exceeded'));
    }
    if (seq.stream) {
      // vLLM and Ollama send the event-stream headers as soon as they accept the request.
      seq.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      seq.res.flushHeaders();
    }
    this.queue.push(seq);
    if (this.queue.length > this.counts.maxQueue) this.counts.maxQueue = this.queue.length;
    this.admit();
  }

  /** Moves queued requests into free slots; each starts with its prefill. */
  admit() {
    while (this.slots.length < this.spec.slots && this.queue.length > 0) {
      const seq = this.queue.shift();
      seq.phase = 'prefill';
      seq.prefillEnd = performance.now() + this.prefillMs(seq.prompt);
      seq.timer = setTimeout(() => this.prefilled(seq), seq.prefillEnd - performance.now());
      this.slots.push(seq);
    }
  }

  /** The prefill pass yields the first token; the sequence then joins the decode batch. */
  prefilled(seq) {
    seq.timer = null;
    seq.phase = 'decode';
    this.emit(seq);
    if (seq.left === 0) this.finish(seq);
    else this.schedule();
  }

  /** Arms the next decode step. Steps are due one step time after the previous one (drift-free, at most one step of catch-up). */
  schedule() {
    if (this.tick !== null || !this.slots.some((s) => s.phase === 'decode')) return;
    const now = performance.now();
    this.due = Math.max(this.due, now - this.stepMs(this.slots.length)) + this.stepMs(this.slots.length);
    this.tick = setTimeout(() => this.step(), Math.max(0, this.due - now));
  }

  /** One decode step: every decoding sequence gets one token. */
  step() {
    this.tick = null;
    for (const seq of this.slots.filter((s) => s.phase === 'decode')) {
      this.emit(seq);
      if (seq.left === 0) this.finish(seq);
    }
    this.schedule();
  }

  /** One output token of `seq` (an SSE chunk when it streams). */
  emit(seq) {
    seq.left--;
    this.counts.tokens++;
    if (seq.stream) seq.res.write(chunk(seq, { ...(seq.left === seq.output - 1 ? { role: 'assistant' } : {}), content: TOKEN }, null));
  }

  /** The last token: the stream's closing chunks, or the whole non-streaming answer with `usage`. */
  finish(seq) {
    this.release(seq);
    seq.done = true;
    this.counts.served++;
    const usage = { prompt_tokens: seq.prompt, completion_tokens: seq.output, total_tokens: seq.prompt + seq.output };
    if (seq.stream) {
      let tail = chunk(seq, {}, 'length');
      if (seq.includeUsage) tail += `data: ${JSON.stringify({ id: seq.id, object: 'chat.completion.chunk', created: seq.created, model: this.model, choices: [], usage })}\n\n`;
      seq.res.end(`${tail}data: [DONE]\n\n`);
    } else {
      const message = { role: 'assistant', content: TOKEN.repeat(seq.output) };
      const body = { id: seq.id, object: 'chat.completion', created: seq.created, model: this.model, choices: [{ index: 0, message, finish_reason: 'length' }], usage };
      send(seq.res, 200, JSON.stringify(body));
    }
    this.admit();
    this.schedule();
  }

  /** The client went away before the answer ended: free its slot or queue place. */
  abandon(seq) {
    if (seq.done) return;
    seq.done = true;
    this.counts.abandoned++;
    const queued = this.queue.indexOf(seq);
    if (queued >= 0) this.queue.splice(queued, 1);
    else if (this.release(seq)) this.admit();
  }

  /** Frees the slot `seq` holds, if any; true when it held one. */
  release(seq) {
    clearTimeout(seq.timer);
    const at = this.slots.indexOf(seq);
    if (at < 0) return false;
    this.slots.splice(at, 1);
    return true;
  }
}

/** A request as the simulation tracks it; prompt tokens are estimated at 4 characters each. */
function newSequence(body, res, model) {
  let chars = 0;
  for (const m of Array.isArray(body.messages) ? body.messages : []) chars += typeof m?.content === 'string' ? m.content.length : 0;
  const output = Math.max(1, Math.min(8192, Number(body.max_tokens ?? body.max_completion_tokens) || 128));
  return {
    id: `chatcmpl-sim-${++nextId}`,
    created: Math.floor(Date.now() / 1000),
    res,
    model,
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    prompt: Math.max(1, Math.ceil(chars / 4)),
    output,
    left: output,
    phase: 'queued',
    prefillEnd: 0,
    timer: null,
    done: false,
  };
}

function chunk(seq, delta, finishReason) {
  return `data: {"id":"${seq.id}","object":"chat.completion.chunk","created":${seq.created},"model":${JSON.stringify(seq.model)},"choices":[{"index":0,"delta":${JSON.stringify(delta)},"finish_reason":${JSON.stringify(finishReason)}}]}\n\n`;
}

function errorBody(message) {
  return JSON.stringify({ error: { message, type: 'server_error', code: null } });
}

function send(res, status, text, type = 'application/json') {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
