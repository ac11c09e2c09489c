/**
 * Request bodies: read with a size limit (413), JSON only (415), parsed (400 `invalid_request`).
 * Host frameworks that already parsed the body hand it over instead.
 */
import type { IncomingMessage } from 'node:http';
import { LlmlbError } from '../errors.js';

/**
 * Reads the raw body, rejecting with `payload_too_large` past `limit` bytes. `onChunk`, when
 * given, sees each chunk as it is read (a streaming parser looking for one field).
 */
export function readBody(req: IncomingMessage, limit: number, onChunk?: (chunk: Buffer) => void): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.reject(tooLarge(limit));
  }
  // Already consumed (by a host framework): nothing left to read.
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume(); // drain the rest so the socket can deliver our answer
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
      onChunk?.(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new LlmlbError('invalid_request', 'the request body could not be read', { cause: err }));
    };
    const onAborted = () => onError(new Error('client aborted'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/** The error for a body over `limit` bytes. */
export function tooLarge(limit: number): LlmlbError {
  return new LlmlbError('payload_too_large', `request body is larger than ${limit} bytes`);
}

/** True when the request declares a JSON content type (`application/json`, `…+json`). */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const type = header.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * A request body that a host framework's body parser rejected (malformed, too large, …), handed
 * to the handler as its pre-parsed body so that authentication and routing still come first.
 * Using it in any way — {@link readJsonBody}, or serialising it with `JSON.stringify` — throws
 * the {@link LlmlbError} to answer with.
 */
export class RejectedBody {
  readonly error: LlmlbError;

  constructor(error: LlmlbError) {
    this.error = error;
  }

  /** Throws: a rejected body has no JSON form. */
  toJSON(): never {
    throw this.error;
  }
}

/**
 * Reads and parses a JSON body. `preParsed` is what a host framework made of the body when its
 * own body parser ran first (Express with `express.json()`): a parsed value, a raw `Buffer` or
 * `string` (`express.raw()`, `express.text()`, or the text of a body the host's JSON parser
 * refused), or a {@link RejectedBody} (its error is thrown here).
 * The same rules apply either way: JSON content type (415), size limit (413), not empty (400).
 */
export async function readJsonBody(req: IncomingMessage, limit: number, preParsed?: unknown): Promise<unknown> {
  return (await readJsonBytes(req, limit, preParsed)).value;
}

/**
 * Like {@link readJsonBody}, and also returns the body's bytes: the original ones, or — for a
 * value a host framework already parsed — its serialised form, made once.
 */
export async function readJsonBytes(
  req: IncomingMessage,
  limit: number,
  preParsed?: unknown,
): Promise<{ raw: Buffer; value: unknown }> {
  if (preParsed instanceof RejectedBody) throw preParsed.error;
  if (!isJsonContentType(req.headers['content-type'])) {
    if (preParsed === undefined) req.resume();
    throw new LlmlbError('unsupported_media_type', 'the request body must be JSON (Content-Type: application/json)');
  }
  let raw: Buffer;
  if (preParsed === undefined) {
    raw = await readBody(req, limit);
  } else if (Buffer.isBuffer(preParsed) || typeof preParsed === 'string') {
    raw = Buffer.isBuffer(preParsed) ? preParsed : Buffer.from(preParsed, 'utf8');
    if (raw.length > limit) throw tooLarge(limit);
  } else {
    // Already parsed: hold it to the same limits, by its declared or serialised size.
    const declared = Number(req.headers['content-length']);
    if (req.headers['content-length'] !== undefined && declared === 0) throw emptyBody();
    if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
    raw = Buffer.from(JSON.stringify(preParsed) ?? '', 'utf8');
    if (raw.length > limit) throw tooLarge(limit);
    return { raw, value: preParsed };
  }
  if (raw.length === 0) throw emptyBody();
  return { raw, value: parseJsonBytes(raw) };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses a JSON body: it must be valid UTF-8 (not silently repaired) and valid JSON. */
export function parseJsonBytes(raw: Uint8Array): unknown {
  let text: string;
  try {
    text = strictUtf8.decode(raw);
  } catch {
    throw new LlmlbError('invalid_request', 'the request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new LlmlbError('invalid_request', 'the request body is not valid JSON');
  }
}

function emptyBody(): LlmlbError {
  return new LlmlbError('invalid_request', 'the request body is empty; a JSON object is required');
}
