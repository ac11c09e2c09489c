// Fake OpenAI upstream for the proxy benchmark. Answers
//   GET  /v1/models            (llmlb's health check / model sync)
//   POST /v1/chat/completions  with a fixed chat completion, or — when the body says
//                              "stream": true — 20 SSE chunks and `data: [DONE]`.
// Header `x-bench-gap-ms: N` spaces the SSE events N ms apart (default: written back to back).
// Prints/sends its port when ready; exits with its parent.
import { createServer } from 'node:http';
import { exitWithParent, parseArgs } from './common.mjs';

const args = parseArgs(process.argv.slice(2));

const MODEL = args.model ?? 'bench-model';
const MODELS = Buffer.from(JSON.stringify({ object: 'list', data: [{ id: MODEL, object: 'model', owned_by: 'bench' }] }));
const COMPLETION = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1700000000,
    model: MODEL,
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! This is a fixed benchmark answer.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 },
  }),
);
const EVENTS = Array.from({ length: 20 }, (_, i) =>
  Buffer.from(
    `data: ${JSON.stringify({
      id: 'chatcmpl-bench',
      object: 'chat.completion.chunk',
      created: 1700000000,
      model: MODEL,
      choices: [{ index: 0, delta: { content: `tok${i} ` }, finish_reason: null }],
    })}\n\n`,
  ),
);
const DONE = Buffer.from('data: [DONE]\n\n');
const STREAM_RE = /"stream"\s*:\s*true/;

function stream(res, gapMs) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  if (gapMs <= 0) {
    for (const event of EVENTS) res.write(event);
    res.end(DONE);
    return;
  }
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    if (i < EVENTS.length) {
      res.write(EVENTS[i++]);
      setTimeout(next, gapMs);
    } else res.end(DONE);
  };
  next();
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': MODELS.length });
      return res.end(MODELS);
    }
    if (req.method === 'POST' && req.url.startsWith('/v1/chat/completions')) {
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      if (STREAM_RE.test(body.latin1Slice(0, body.length))) return stream(res, Number(req.headers['x-bench-gap-ms'] ?? 0));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': COMPLETION.length });
      return res.end(COMPLETION);
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"not found"}}');
  });
});
server.keepAliveTimeout = 120_000;
exitWithParent(Number(args['max-ms'] ?? 3_600_000), undefined, server);
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.send?.({ type: 'ready', port, pid: process.pid });
  if (!process.send) console.log(port);
});
