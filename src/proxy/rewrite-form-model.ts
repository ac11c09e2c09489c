/**
 * The alias rewrite of a `multipart/form-data` body (the audio uploads): the value of its first
 * `model` field — the one llmlb routed by — becomes the chosen endpoint's model id; every other
 * byte, the uploaded file included, stays as the client sent it.
 */
import { LlmlbError } from '../errors.js';

const HEADERS_END = Buffer.from('\r\n\r\n');
/** `name="model"` (or unquoted) as a Content-Disposition parameter, not `filename=…`. */
const MODEL_FIELD = /^content-disposition:\s*form-data\s*;(?:.*;)?\s*name\s*=\s*"?model"?\s*(?:;|$)/im;

/** The boundary of a `multipart/form-data` content type, or undefined. */
function boundaryOf(contentType: string | undefined): string | undefined {
  const match = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  return match?.[1] ?? match?.[2];
}

/** The byte range of the first `model` field's value, or undefined when the body has none. */
function modelValueSpan(body: Buffer, boundary: string): readonly [number, number] | undefined {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const first = body.indexOf(delimiter.subarray(2));
  if (first === -1) return undefined;
  // Each part: its headers up to a blank line, then its value up to the next delimiter.
  for (let at = first + delimiter.length - 2; body[at] !== 0x2d || body[at + 1] !== 0x2d; ) {
    const headersEnd = body.indexOf(HEADERS_END, at);
    if (headersEnd === -1) return undefined;
    const valueStart = headersEnd + HEADERS_END.length;
    const next = body.indexOf(delimiter, valueStart);
    if (next === -1) return undefined;
    if (MODEL_FIELD.test(body.toString('latin1', at, headersEnd))) return [valueStart, next];
    at = next + delimiter.length;
  }
  return undefined;
}

/**
 * `body` with its first `model` field's value replaced by `model` (UTF-8).
 *
 * @throws LlmlbError `invalid_request` when the body has no boundary or no `model` field (the
 *   route read one, so this means the body is not what it said).
 * @example
 * rewriteFormModel(upload, 'multipart/form-data; boundary=x', 'whisper-large-v3');
 */
export function rewriteFormModel(body: Buffer, contentType: string | undefined, model: string): Buffer {
  const boundary = boundaryOf(contentType);
  const span = boundary === undefined ? undefined : modelValueSpan(body, boundary);
  if (span === undefined) throw new LlmlbError('invalid_request', 'the multipart/form-data body has no "model" field to address');
  return Buffer.concat([body.subarray(0, span[0]), Buffer.from(model, 'utf8'), body.subarray(span[1])]);
}
