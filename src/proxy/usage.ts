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
   * bytes are searched where they lie; only what follows the key is decoded.
   */
  usage(): TokenUsage | null {
    const found = this.#find();
    if (!found) return null;
    const [chunk, offset] = found;
    const rest = this.#chunks.slice(chunk + 1);
    const head = this.#chunks[chunk]!.subarray(offset);
    const text = (rest.length === 0 ? head : Buffer.concat([head, ...rest])).toString('utf8');
    return parseUsageAt(text, USAGE_KEY.length);
  }

  /** Where the last `"usage"` starts: chunk index and offset (a key split across two chunks included). */
  #find(): [number, number] | null {
    const chunks = this.#chunks;
    const overlap = USAGE_BYTES.length - 1;
    for (let i = chunks.length - 1; i >= 0; i--) {
      const at = chunks[i]!.lastIndexOf(USAGE_BYTES);
      if (at !== -1) return [i, at];
      if (i === 0) break;
      const before = chunks[i - 1]!;
      const seam = Buffer.concat([before.subarray(Math.max(0, before.length - overlap)), chunks[i]!.subarray(0, overlap)]);
      const across = seam.indexOf(USAGE_BYTES);
      if (across !== -1) return [i - 1, before.length - Math.min(before.length, overlap) + across];
    }
    return null;
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
