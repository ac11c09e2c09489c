// A fake OpenAI-compatible upstream for the reliability benchmark, run as its own process so it
// can be SIGKILLed. Config (JSON in argv[2]):
//   port          listen port (0: ephemeral; a fixed port to come back on the same one)
//   models        model ids listed at GET /v1/models (default ['m'])
//   delayMs       delay before a non-streamed answer (default 0)
//   p503          probability that an inference answer is replaced by a 503 (default 0)
//   seed          PRNG seed of that draw
//   streamEvents  SSE content events before `[DONE]` (default 20)
//   streamGapMs   gap between SSE events (default 0)
//   keepAliveMs   server keep-alive timeout (default 5000, Node's default)
//   maxMs         exits by itself after this long (default 10 min)
// With `faults: true` the model name picks the behaviour of an inference request:
//   e500   → 500 with an OpenAI error body
//   e503   → 503 with an OpenAI error body
//   half   → 200, Content-Length of the full body, half of it, then the socket is destroyed
//   midsse → SSE, 3 events, then the socket is destroyed
//   other  → a normal answer
// Any path prefix before /v1/ is ignored, so one process can pose as several endpoints.
// Answers `stats` messages with counters.
import { createServer } from 'node:http';
import { exitWithParent, seededRandom } from './lib.mjs';

const config = JSON.parse(process.argv[2] ?? '{}');
const models = config.models ?? ['m'];
const delayMs = config.delayMs ?? 0;
const p503 = config.p503 ?? 0;
const random = seededRandom(config.seed ?? 1);
const streamEvents = config.streamEvents ?? 20;
const streamGapMs = config.streamGapMs ?? 0;
const faults = config.faults === true;

const counters = { models: 0, inference: 0, answered503: 0, streams: 0, byModel: {} };

const MODELS = Buffer.from(JSON.stringify({ object: 'list', data: models.map((id) => ({ id, object: 'model', owned_by: 'bench' })) }));
const completion = (model) =>
  Buffer.from(
    JSON.stringify({
      id: 'chatcmpl-rel',
      object: 'chat.completion',
      created: 1700000000,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! This is a fixed reliability-benchmark answer.' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 },
    }),
  );
const chunk = (model, i) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-rel',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model,
    choices: [{ index: 0, delta: { content: `tok${i} ` }, finish_reason: null }],
  })}\n\n`;
const errorBody = (status) => Buffer.from(JSON.stringify({ error: { message: `injected ${status}`, type: 'server_error', code: null } }));

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

/** Streams `events` SSE events, `gapMs` apart; `dieAfter` destroys the socket after that many. */
function stream(res, model, events, gapMs, dieAfter) {
  counters.streams++;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    if (dieAfter !== undefined && i >= dieAfter) {
      res.socket?.destroy();
      return;
    }
    if (i >= events) {
      res.end('data: [DONE]\n\n');
      return;
    }
    const text = chunk(model, i++);
    if (gapMs > 0) {
      res.write(text);
      setTimeout(next, gapMs);
    } else res.write(text, next); // back to back, but each one handed to the socket
  };
  next();
}

function inference(req, res, body) {
  counters.inference++;
  let request;
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch {
    return send(res, 400, errorBody(400));
  }
  const model = typeof request.model === 'string' ? request.model : 'unknown';
  counters.byModel[model] = (counters.byModel[model] ?? 0) + 1;
  if (p503 > 0 && random() < p503) {
    counters.answered503++;
    return send(res, 503, errorBody(503));
  }
  if (faults) {
    if (model === 'e500') return send(res, 500, errorBody(500));
    if (model === 'e503') return send(res, 503, errorBody(503));
    if (model === 'half') {
      const full = completion(model);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': full.length });
      res.write(full.subarray(0, full.length >> 1), () => res.socket?.destroy());
      return;
    }
    if (model === 'midsse') return stream(res, model, streamEvents, 0, 3);
  }
  if (request.stream === true) return stream(res, model, streamEvents, streamGapMs);
  const answer = () => {
    if (!res.destroyed) send(res, 200, completion(model));
  };
  if (delayMs > 0) setTimeout(answer, delayMs);
  else answer();
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = req.url.indexOf('/v1/');
    const path = at === -1 ? req.url : req.url.slice(at);
    if (req.method === 'GET' && path === '/v1/models') {
      counters.models++;
      return send(res, 200, MODELS);
    }
    if (req.method === 'POST' && path.startsWith('/v1/chat/completions')) return inference(req, res, Buffer.concat(chunks));
    send(res, 404, errorBody(404));
  });
});
server.keepAliveTimeout = config.keepAliveMs ?? 5_000;

exitWithParent(config.maxMs ?? 600_000);
process.on('message', (msg) => {
  if (msg?.type === 'stats') process.send({ type: 'stats', ...counters });
});
server.listen(config.port ?? 0, '127.0.0.1', () => {
  process.send({ type: 'ready', port: server.address().port, pid: process.pid });
});
