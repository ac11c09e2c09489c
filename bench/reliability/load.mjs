// The load generator of the reliability benchmark: closed-loop workers on an undici Agent, each
// request read to its end and classified. Runs in the driver process.
import { Agent, request } from 'undici';
import { CLIENT_KEY, now } from './lib.mjs';

const HEADERS = { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' };

export function chatBody(model, stream) {
  return JSON.stringify({ model, messages: [{ role: 'user', content: 'Say hello.' }], stream, max_tokens: 16 });
}

/** A client connection pool to llmlb. */
export function createAgent(connections) {
  return new Agent({ connections, pipelining: 1, keepAliveTimeout: 10_000, headersTimeout: 15_000, bodyTimeout: 15_000 });
}

/**
 * One chat request, read to its end. Resolves (never rejects) with
 * `{ kind, stream, t0, t1, latency, status, bodyError, tail, firstEventAt }`:
 * `status` 0 when no response arrived (then `bodyError` holds the error code), `bodyError` set
 * when the body broke after the headers, `tail` the last bytes of a streamed body.
 */
export async function chat(agent, baseUrl, { model, stream = false, kind = model, onFirstEvent }) {
  const t0 = now();
  const result = { kind, stream, t0, t1: 0, latency: 0, status: 0, bodyError: null, tail: '', firstEventAt: null, bytes: 0 };
  try {
    const { statusCode, body } = await request(`${baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: HEADERS,
      body: chatBody(model, stream),
      dispatcher: agent,
    });
    result.status = statusCode;
    try {
      let tail = '';
      for await (const chunk of body) {
        result.bytes += chunk.length;
        tail = (tail + chunk.toString('utf8')).slice(-400);
        if (result.firstEventAt === null && tail.includes('data: ')) {
          result.firstEventAt = now();
          onFirstEvent?.(result);
        }
      }
      result.tail = tail;
    } catch (err) {
      result.bodyError = err?.code ?? err?.name ?? 'error';
    }
  } catch (err) {
    result.bodyError = err?.code ?? err?.name ?? 'error';
  }
  result.t1 = now();
  result.latency = result.t1 - t0;
  return result;
}

/**
 * Closed-loop load: `concurrency` workers send `next(i)` requests (each worker pausing `pauseMs`
 * after each one) until `durationMs` has passed, `maxRequests` were sent, or `stop()` returns true. `onResult(result, i)` sees every result.
 * Resolves `{ results, elapsedMs }` (results kept only when `keep` is true).
 */
export async function runLoad({ agent, baseUrl, concurrency, durationMs = Infinity, maxRequests = Infinity, pauseMs = 0, next, onResult, stop, keep = true }) {
  const started = now();
  const deadline = started + durationMs;
  const results = [];
  let issued = 0;
  const worker = async () => {
    for (;;) {
      if (issued >= maxRequests || now() >= deadline || stop?.()) return;
      const i = issued++;
      const result = await chat(agent, baseUrl, next(i));
      if (keep) results.push(result);
      onResult?.(result, i);
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { results, elapsedMs: now() - started };
}

/** How a streamed response ended, from its status, body error and last bytes. */
export function streamEnding(result) {
  if (result.status !== 200) return 'non-200';
  if (result.bodyError) return 'transport-error';
  const events = result.tail.split('\n\n').map((e) => e.trim()).filter(Boolean);
  const last = events[events.length - 1] ?? '';
  if (last === 'data: [DONE]') return 'done';
  if (last.startsWith('data: {"error"')) return 'error-event';
  return 'clean-close-no-done';
}
