/**
 * The one edit llmlb makes to a request body: the `model` of a request for an alias becomes the
 * chosen endpoint's own model id. Only the bytes of that value change — numbers keep their
 * spelling (big integers their digits), whitespace and member order stay — so the upstream gets
 * what the client sent, addressed to its model.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const MODEL_KEY = Buffer.from('"model"');

/** A byte range of the body: [start, end). */
type Span = readonly [start: number, end: number];

/** Thrown when the body is not the JSON object text the caller promised. */
class NotAJsonObject extends Error {}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/** Reads JSON text from a position, byte by byte (every structural character is ASCII). */
class Scanner {
  constructor(
    readonly bytes: Buffer,
    public at: number,
  ) {}

  skipSpace(): number | undefined {
    while (isSpace(this.bytes[this.at])) this.at++;
    return this.bytes[this.at];
  }

  expect(byte: number): void {
    if (this.skipSpace() !== byte) throw new NotAJsonObject(`expected ${String.fromCharCode(byte)} at byte ${this.at}`);
    this.at++;
  }

  /** Skips a string starting at the current quote; returns its span, quotes included. */
  string(): Span {
    const start = this.at;
    let from = start + 1;
    for (;;) {
      const quote = this.bytes.indexOf(QUOTE, from);
      if (quote === -1) throw new NotAJsonObject('unterminated string');
      // Escaped when an odd number of backslashes precedes it.
      let backslashes = 0;
      while (this.bytes[quote - 1 - backslashes] === BACKSLASH) backslashes++;
      from = quote + 1;
      if (backslashes % 2 === 0) {
        this.at = from;
        return [start, from];
      }
    }
  }

  /** Skips one value of any kind; returns its span. */
  value(): Span {
    const first = this.skipSpace();
    if (first === QUOTE) return this.string();
    const start = this.at;
    if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
      // A number or a literal: up to the next delimiter.
      while (this.at < this.bytes.length && !isDelimiter(this.bytes[this.at])) this.at++;
      return [start, this.at];
    }
    let depth = 0;
    do {
      const byte = this.bytes[this.at];
      if (byte === undefined) throw new NotAJsonObject('unterminated value');
      if (byte === QUOTE) {
        this.string();
        continue;
      }
      if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) depth++;
      else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) depth--;
      this.at++;
    } while (depth > 0);
    return [start, this.at];
  }
}

function isDelimiter(byte: number | undefined): boolean {
  return byte === COMMA || byte === CLOSE_OBJECT || byte === CLOSE_ARRAY || isSpace(byte);
}

/** Whether a member name's span (quotes included) says `model`, escapes decoded. */
function namesModel(bytes: Buffer, [start, end]: Span): boolean {
  if (bytes.subarray(start, end).equals(MODEL_KEY)) return true;
  const escape = bytes.indexOf(BACKSLASH, start);
  return escape !== -1 && escape < end && JSON.parse(bytes.toString('utf8', start, end)) === 'model';
}

/** The spans of the values of every top-level `model` member of a JSON object text. */
function modelValueSpans(body: Buffer): Span[] {
  // A UTF-8 byte order mark may lead (the body parser accepts it).
  const scanner = new Scanner(body, body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0);
  scanner.expect(OPEN_OBJECT);
  const spans: Span[] = [];
  if (scanner.skipSpace() === CLOSE_OBJECT) return spans;
  for (;;) {
    if (scanner.skipSpace() !== QUOTE) throw new NotAJsonObject(`expected a member name at byte ${scanner.at}`);
    const name = scanner.string();
    scanner.expect(COLON);
    const value = scanner.value();
    if (namesModel(body, name)) spans.push(value);
    if (scanner.skipSpace() === COMMA) scanner.at++;
    else return spans;
  }
}

/**
 * The body with the value of every top-level `model` member (a duplicate name included: parsers
 * differ on which one counts) replaced by `model` as a JSON string; every other byte as it was.
 * `body` must be a JSON object text (the proxy rewrites only bodies it has parsed).
 *
 * @example
 * rewriteModel(Buffer.from('{"model":"llama3.1","seed":12345678901234567890}'), 'llama3.1:8b').toString();
 * // '{"model":"llama3.1:8b","seed":12345678901234567890}'
 */
export function rewriteModel(body: Buffer, model: string): Buffer {
  const spans = modelValueSpans(body);
  const replacement = Buffer.from(JSON.stringify(model), 'utf8');
  const pieces: Buffer[] = [];
  let from = 0;
  for (const [start, end] of spans) {
    pieces.push(body.subarray(from, start), replacement);
    from = end;
  }
  pieces.push(body.subarray(from));
  return Buffer.concat(pieces);
}
