/**
 * What a request's body asks of the model that will answer it, read from the body the route
 * already parsed (no second parse): whether it carries images (`vision`) or tool definitions
 * (`tools`), and roughly how many tokens of context it needs. One walk over the message list,
 * its content parts and the top-level fields; nothing else of the body is looked at.
 */
import type { Capability } from '../schema.js';

/** How a route's body is shaped, for {@link requestNeeds}. */
export type BodyShape = 'chat' | 'completions' | 'responses' | 'messages' | 'other';

/** What a request needs of the endpoint's model, besides the route's own capability. */
export interface RequestNeeds {
  /** Capabilities the content asks for (`vision`, `tools`); empty for most requests. */
  readonly capabilities: readonly Capability[];
  /** Estimated prompt tokens (see {@link BYTES_PER_TOKEN}); null: not estimated (e.g. embeddings). */
  readonly promptTokens: number | null;
  /** Output tokens the request asks for (`max_tokens`, `max_completion_tokens`, `max_output_tokens`); 0 when it names none. */
  readonly outputTokens: number;
}

/**
 * Body bytes per estimated prompt token. A cheap, tokenizer-free estimate: English text is about
 * 4 characters per token, and the JSON around the messages (roles, keys, quotes) is about what a
 * chat template adds. Inline images and audio (data URLs, base64) are left out of the bytes.
 */
export const BYTES_PER_TOKEN = 4;

/** A request that needs nothing in particular (and is not estimated). */
export const NO_NEEDS: RequestNeeds = Object.freeze({ capabilities: Object.freeze([]), promptTokens: null, outputTokens: 0 });

const NEEDS_SETS: Readonly<Record<string, readonly Capability[]>> = Object.freeze({
  '': Object.freeze([]),
  vision: Object.freeze(['vision']),
  tools: Object.freeze(['tools']),
  'vision,tools': Object.freeze(['vision', 'tools']),
});

/** Content part types that carry an image, on each API (OpenAI chat, Responses, Anthropic). */
const IMAGE_PARTS: ReadonlySet<string> = new Set(['image_url', 'input_image', 'image']);

/** What the walk over a body's content found. */
interface Walk {
  vision: boolean;
  /** Characters of inline media (base64 images, audio) inside the body. */
  mediaChars: number;
}

/**
 * The needs of a request whose parsed JSON body is `body` and whose raw body is `bytes` long.
 * Only the shapes that carry messages are walked; the others need nothing in particular.
 *
 * @example
 * requestNeeds('chat', { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:…' } }] }] }, 2048)
 * // → { capabilities: ['vision'], promptTokens: …, outputTokens: 0 }
 */
export function requestNeeds(shape: BodyShape, body: Readonly<Record<string, unknown>>, bytes: number): RequestNeeds {
  if (shape === 'other') return NO_NEEDS;
  const walk: Walk = { vision: false, mediaChars: 0 };
  if (shape === 'chat' || shape === 'messages') walkMessages(body.messages, walk);
  else if (shape === 'responses') walkMessages(body.input, walk);
  const tools = shape !== 'completions' && (nonEmptyArray(body.tools) || (shape === 'chat' && nonEmptyArray(body.functions)));
  const key = walk.vision ? (tools ? 'vision,tools' : 'vision') : tools ? 'tools' : '';
  return {
    capabilities: NEEDS_SETS[key] as readonly Capability[],
    promptTokens: Math.ceil(Math.max(0, bytes - walk.mediaChars) / BYTES_PER_TOKEN),
    outputTokens: outputTokensOf(body),
  };
}

/** The largest positive integer among the output-length fields (0 when none is given). */
function outputTokensOf(body: Readonly<Record<string, unknown>>): number {
  let most = 0;
  for (const value of [body.max_tokens, body.max_completion_tokens, body.max_output_tokens]) {
    if (typeof value === 'number' && Number.isInteger(value) && value > most) most = value;
  }
  return most;
}

function nonEmptyArray(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}

/** Walks a message list (or a Responses `input` list): each item's `content` parts. */
function walkMessages(messages: unknown, walk: Walk): void {
  if (!Array.isArray(messages)) return;
  for (const message of messages) {
    if (typeof message !== 'object' || message === null) continue;
    const content = (message as { content?: unknown }).content;
    if (Array.isArray(content)) for (const part of content) walkPart(part, walk);
    // A Responses `input` item may itself be a content part.
    else walkPart(message, walk);
  }
}

/** One content part: an image makes the request need `vision`; inline media is counted out of the estimate. */
function walkPart(part: unknown, walk: Walk): void {
  if (typeof part !== 'object' || part === null) return;
  const { type } = part as { type?: unknown };
  if (typeof type !== 'string') return;
  if (IMAGE_PARTS.has(type)) {
    walk.vision = true;
    walk.mediaChars += inlineChars(part as Record<string, unknown>);
  } else if (type === 'input_audio') {
    walk.mediaChars += stringLength((part as { input_audio?: { data?: unknown } }).input_audio?.data);
  }
}

/** Characters of an image part's inline data: a data URL (`image_url.url`, or `image_url` itself) or Anthropic's base64 `source.data`. */
function inlineChars(part: Record<string, unknown>): number {
  const { image_url: url, source } = part as { image_url?: unknown; source?: { data?: unknown } };
  if (typeof url === 'string') return stringLength(url);
  if (typeof url === 'object' && url !== null) return stringLength((url as { url?: unknown }).url);
  return stringLength(source?.data);
}

function stringLength(value: unknown): number {
  return typeof value === 'string' ? value.length : 0;
}
