/**
 * The routes beyond chat, completions and embeddings on a fake upstream, answering in the shapes
 * the real servers use: the Responses API (OpenAI, Ollama ≥ 0.13.3, vLLM, LM Studio), rerank and
 * score (vLLM, llama.cpp, Jina), the audio routes (multipart uploads in, JSON or audio bytes
 * out), image generation, and — when the upstream speaks it — Anthropic's Messages API
 * (llama-server, Ollama ≥ 0.14, vLLM, LM Studio ≥ 0.4.1), streams included.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Busboy } from '@fastify/busboy';
import { type FakeUpstream, json } from './fake-upstream.js';

/** The audio bytes `POST /v1/audio/speech` answers with: every byte value, four times. */
export const SPEECH_BYTES = Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256));

/** What the fake heard in a multipart upload. */
export interface HeardUpload {
  fields: Record<string, string>;
  files: Array<{ field: string; filename: string; mimeType: string; bytes: Buffer }>;
}

/** Options of {@link serveRoutes}. */
export interface FakeRoutesOptions {
  /** Serve `/v1/messages` and `/v1/messages/count_tokens` (default true); without them they answer 404. */
  messages?: boolean;
  /** Streams: destroy the connection after this many deltas (an upstream that dies mid-stream). */
  dieAfterDeltas?: number;
}

type Body = Record<string, any>;

const parse = (body: Buffer): Body => JSON.parse(body.toString('utf8')) as Body;

/** Parses a multipart upload the way a real server would. */
export function parseUpload(headers: IncomingMessage['headers'], body: Buffer): Promise<HeardUpload> {
  return new Promise((resolve, reject) => {
    const heard: HeardUpload = { fields: {}, files: [] };
    const parser = Busboy({ headers: headers as { 'content-type': string } });
    parser.on('field', (name, value) => (heard.fields[name] = value));
    parser.on('file', (field, stream, filename, _encoding, mimeType) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => heard.files.push({ field, filename, mimeType, bytes: Buffer.concat(chunks) }));
    });
    parser.on('finish', () => resolve(heard));
    parser.on('error', reject);
    parser.end(body);
  });
}

/** Writes one server-sent event with an `event:` line, once it is handed to the socket. */
function sendEvent(res: ServerResponse, type: string, data: unknown): Promise<void> {
  return new Promise((resolve) => res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`, () => resolve()));
}

/** The deltas of a stream: `0 `, `1 `, … (five of them, as the fake's chat streams). */
const DELTAS = ['0 ', '1 ', '2 ', '3 ', '4 '];

function responseObject(model: string, status: string, text: string | null) {
  const output = text === null ? [] : [{ type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] }];
  const usage = text === null ? null : { input_tokens: 3, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 8 };
  return { id: 'resp_1', object: 'response', created_at: 1, status, model, output, parallel_tool_calls: true, tool_choice: 'auto', tools: [], usage };
}

/** `POST /v1/responses`: a response object, or its event stream (`response.created`, text deltas, `response.completed`). */
async function responses(u: FakeUpstream, res: ServerResponse, body: Body, options: FakeRoutesOptions): Promise<void> {
  const model = String(body.model);
  if (body.stream !== true) return json(res, 200, responseObject(model, 'completed', `hello from ${u.name}`));
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let seq = 0;
  await sendEvent(res, 'response.created', { type: 'response.created', sequence_number: seq++, response: responseObject(model, 'in_progress', null) });
  for (const [i, delta] of DELTAS.entries()) {
    if (options.dieAfterDeltas !== undefined && i >= options.dieAfterDeltas) return void res.socket?.destroy();
    await sendEvent(res, 'response.output_text.delta', { type: 'response.output_text.delta', sequence_number: seq++, item_id: 'msg_1', output_index: 0, content_index: 0, delta, logprobs: [] });
  }
  await sendEvent(res, 'response.completed', { type: 'response.completed', sequence_number: seq++, response: responseObject(model, 'completed', DELTAS.join('')) });
  res.end();
}

function message(model: string, text: string) {
  return { id: 'msg_01', type: 'message', role: 'assistant', model, content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 3, output_tokens: 5 } };
}

/** `POST /v1/messages`: an Anthropic message, or its event stream (`message_start` … `message_stop`). */
async function messages(u: FakeUpstream, res: ServerResponse, body: Body, options: FakeRoutesOptions): Promise<void> {
  const model = String(body.model);
  if (body.stream !== true) return json(res, 200, message(model, `hello from ${u.name}`));
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const start = { ...message(model, ''), content: [], stop_reason: null, usage: { input_tokens: 3, output_tokens: 1 } };
  await sendEvent(res, 'message_start', { type: 'message_start', message: start });
  await sendEvent(res, 'content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  await sendEvent(res, 'ping', { type: 'ping' });
  for (const [i, text] of DELTAS.entries()) {
    if (options.dieAfterDeltas !== undefined && i >= options.dieAfterDeltas) return void res.socket?.destroy();
    await sendEvent(res, 'content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } });
  }
  await sendEvent(res, 'content_block_stop', { type: 'content_block_stop', index: 0 });
  await sendEvent(res, 'message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } });
  await sendEvent(res, 'message_stop', { type: 'message_stop' });
  res.end();
}

/** `POST /v1/rerank` (vLLM / Jina shape): documents by relevance, the shorter the better. */
function rerank(res: ServerResponse, body: Body): void {
  const documents = (body.documents as string[]).map((text, index) => ({ index, document: { text }, relevance_score: 1 / (1 + text.length) }));
  documents.sort((a, b) => b.relevance_score - a.relevance_score);
  json(res, 200, { id: 'rerank-1', model: body.model, usage: { total_tokens: 7 }, results: documents.slice(0, body.top_n ?? documents.length) });
}

/** `POST /v1/score` (vLLM shape). */
function score(res: ServerResponse, body: Body): void {
  json(res, 200, { id: 'score-1', object: 'list', created: 1, model: body.model, data: [{ index: 0, object: 'score', score: 0.5 }], usage: { prompt_tokens: 4, total_tokens: 4 } });
}

/** The audio uploads: what was heard, as text. */
async function transcribe(u: FakeUpstream, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  const heard = await parseUpload(req.headers, body);
  const file = heard.files[0];
  json(res, 200, { text: `${u.name} heard ${file?.bytes.length ?? 0} bytes of ${file?.filename ?? 'nothing'} for ${heard.fields.model ?? '?'}` });
}

/**
 * Installs the routes on `u` (its `routes` map); `u.requests` records every call as usual.
 *
 * @example
 * serveRoutes(await startFakeUpstream({ models: ['whisper-1'] }));
 */
export function serveRoutes(u: FakeUpstream, options: FakeRoutesOptions = {}): void {
  const jsonRoute = (handle: (res: ServerResponse, body: Body) => void | Promise<void>) => (_req: IncomingMessage, res: ServerResponse, body: Buffer) => handle(res, parse(body));
  u.routes.set('POST /v1/responses', jsonRoute((res, body) => responses(u, res, body, options)));
  u.routes.set('POST /v1/rerank', jsonRoute(rerank));
  u.routes.set('POST /v1/score', jsonRoute(score));
  u.routes.set('POST /v1/audio/transcriptions', (req, res, body) => transcribe(u, req, res, body));
  u.routes.set('POST /v1/audio/translations', (req, res, body) => transcribe(u, req, res, body));
  u.routes.set('POST /v1/audio/speech', (_req, res) => {
    res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': SPEECH_BYTES.length });
    res.end(SPEECH_BYTES);
  });
  u.routes.set('POST /v1/images/generations', jsonRoute((res) => json(res, 200, { created: 1, data: [{ b64_json: Buffer.from(`image from ${u.name}`).toString('base64') }] })));
  if (options.messages === false) return;
  u.routes.set('POST /v1/messages', jsonRoute((res, body) => messages(u, res, body, options)));
  u.routes.set('POST /v1/messages/count_tokens', jsonRoute((res) => json(res, 200, { input_tokens: 11 })));
}

/**
 * A `multipart/form-data` body as a browser or SDK builds it: the fields in order, then (or
 * before them, with `fileFirst`) one file part.
 */
export function multipartBody(fields: Record<string, string>, file: { name: string; bytes: Buffer }, fileFirst = false): { body: Buffer; contentType: string } {
  const boundary = '----llmlbTestBoundary7MA4YWxkTrZu0gW';
  const fieldParts = Object.entries(fields).map(([name, value]) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  const filePart = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: audio/wav\r\n\r\n`),
    file.bytes,
    Buffer.from('\r\n'),
  ]);
  const parts = fileFirst ? [filePart, ...fieldParts] : [...fieldParts, filePart];
  return { body: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]), contentType: `multipart/form-data; boundary=${boundary}` };
}
