/**
 * Multipart request bodies (`multipart/form-data`, the audio uploads): the body is read up to the
 * limit while a streaming parser (`@fastify/busboy`) looks for the `model` field; file parts are
 * skipped by the parser, never buffered twice. The original bytes are what gets forwarded.
 */
import type { IncomingMessage } from 'node:http';
import { Busboy, type BusboyInstance } from '@fastify/busboy';
import { LlmlbError } from '../errors.js';
import { RejectedBody, readBody, tooLarge } from './body.js';

/** Largest text field the parser keeps (longer ones are cut; a `model` that long is refused anyway). */
const FIELD_LIMIT = 64 * 1024;

/** The multipart body of a request and the `model` field it names (as sent, not yet validated). */
export interface MultipartBody {
  raw: Buffer;
  model: string | undefined;
}

/** True when the request declares `multipart/form-data`. */
function isMultipart(header: string | undefined): header is string {
  return header !== undefined && header.split(';', 1)[0]!.trim().toLowerCase() === 'multipart/form-data';
}

/**
 * Watches a multipart body for its `model` field as its chunks are read: fed chunk by chunk until
 * the field is found, then left alone.
 */
class ModelFieldParser {
  model: string | undefined;
  #failed = false;
  readonly #parser: BusboyInstance;
  readonly #finished: Promise<void>;

  constructor(req: IncomingMessage, contentType: string) {
    try {
      this.#parser = Busboy({ headers: { ...req.headers, 'content-type': contentType }, limits: { fieldSize: FIELD_LIMIT } });
    } catch {
      throw new LlmlbError('invalid_request', 'the multipart/form-data body has no boundary');
    }
    this.#parser.on('field', (name, value) => {
      if (name === 'model' && this.model === undefined) this.model = value;
    });
    this.#finished = new Promise((resolve) => {
      this.#parser.once('finish', resolve);
      this.#parser.once('error', () => {
        this.#failed = true;
        resolve();
      });
    });
  }

  /** Parses one more chunk, unless the field was found or the body is malformed. */
  readonly push = (chunk: Buffer): void => {
    if (this.model === undefined && !this.#failed) this.#parser.write(chunk);
  };

  /**
   * The `model` field, once the whole body was read; throws for a body the parser found malformed
   * (what follows a field found early is left to the upstream).
   */
  async finish(): Promise<string | undefined> {
    if (this.model !== undefined && !this.#failed) return this.model;
    if (!this.#failed) this.#parser.end();
    await this.#finished;
    if (this.#failed) throw new LlmlbError('invalid_request', 'the multipart/form-data body is malformed');
    return this.model;
  }

  /** Stops parsing (the body was refused). */
  abandon(): void {
    this.#parser.removeAllListeners('field');
    this.#parser.destroy();
  }
}

/**
 * Reads a `multipart/form-data` body up to `limit` bytes (413 past it) and the `model` field it
 * carries. `preParsed` is what a host framework made of the body: raw bytes are parsed like a
 * read body; anything else means the multipart body is gone (a form parser ran before llmlb).
 */
export async function readMultipartBody(req: IncomingMessage, limit: number, preParsed?: unknown): Promise<MultipartBody> {
  if (preParsed instanceof RejectedBody) throw preParsed.error;
  const contentType = req.headers['content-type'];
  if (!isMultipart(contentType)) {
    if (preParsed === undefined) req.resume();
    throw new LlmlbError('unsupported_media_type', 'the request body must be multipart/form-data');
  }
  if (preParsed !== undefined && !Buffer.isBuffer(preParsed)) {
    throw new LlmlbError('invalid_request', 'the multipart body was consumed by a body parser that ran before llmlb; mount llmlb before it');
  }
  let parser: ModelFieldParser;
  try {
    parser = new ModelFieldParser(req, contentType);
  } catch (err) {
    if (preParsed === undefined) req.resume();
    throw err;
  }
  try {
    let raw: Buffer;
    if (preParsed === undefined) {
      raw = await readBody(req, limit, parser.push);
    } else {
      if (preParsed.length > limit) throw tooLarge(limit);
      raw = preParsed;
      parser.push(raw);
    }
    return { raw, model: await parser.finish() };
  } catch (err) {
    parser.abandon();
    throw err;
  }
}
