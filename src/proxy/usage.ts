/**
 * Token counts from an upstream's `usage` object, read from the end of a response body without
 * parsing it: a JSON answer carries `usage` near its end, and an OpenAI event stream carries it
 * in its last event (with `stream_options.include_usage`). The relay keeps references to the
 * last few KiB of chunks; they are decoded only when a `request` event is built.
 */

/** Token counts an upstream reported for one request. */
export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** How much of a body's end is kept. */
const TAIL_BYTES = 8 * 1024;
const USAGE_KEY = '"usage"';
const USAGE_BYTES = Buffer.from(USAGE_KEY);

/**
 * The last few KiB of a response body, kept by reference (no copy per chunk).
 *
 * @example
 * const tail = new BodyTail();
 * tail.push(Buffer.from('{"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}'));
 * tail.usage(); // { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 }
 */
export class BodyTail {
  #chunks: Buffer[] = [];
  #bytes = 0;

  /** Keeps `chunk`, dropping older chunks no longer needed for the last {@link TAIL_BYTES}. */
  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    while (this.#chunks.length > 1 && this.#bytes - this.#chunks[0]!.length >= TAIL_BYTES) {
      this.#bytes -= this.#chunks.shift()!.length;
    }
  }

  /**
   * The last `usage` object in the kept bytes, or null when there is none (or it is `null`). The
   * kept chunks are joined once (a few KiB) and searched from the end; only what follows the key
   * is decoded.
   */
  usage(): TokenUsage | null {
    const chunks = this.#chunks;
    if (chunks.length === 0) return null;
    const tail = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#bytes);
    const at = tail.lastIndexOf(USAGE_BYTES);
    return at === -1 ? null : parseUsageAt(tail.toString('utf8', at), USAGE_KEY.length);
  }
}

/** Parses the object after `"usage"` (at `from`, before the colon); null when it is not one. */
function parseUsageAt(text: string, from: number): TokenUsage | null {
  const open = text.indexOf('{', from);
  if (open === -1 || text.slice(from, open).trim() !== ':') return null;
  const close = matchingBrace(text, open);
  if (close === -1) return null;
  try {
    const value = JSON.parse(text.slice(open, close + 1)) as Record<string, unknown>;
    const prompt = count(value.prompt_tokens ?? value.input_tokens);
    const completion = count(value.completion_tokens ?? value.output_tokens);
    if (prompt === null && completion === null) return null;
    const total = count(value.total_tokens) ?? (prompt ?? 0) + (completion ?? 0);
    return { prompt_tokens: prompt ?? 0, completion_tokens: completion ?? 0, total_tokens: total };
  } catch {
    return null;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN = 0x7b;
const CLOSE = 0x7d;

/** The index of the `}` closing the object that opens at `open`, or -1 (strings are skipped). */
function matchingBrace(text: string, open: number): number {
  let depth = 0;
  let inString = false;
  for (let i = open; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN) depth++;
    else if (c === CLOSE && --depth === 0) return i;
  }
  return -1;
}

function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}
