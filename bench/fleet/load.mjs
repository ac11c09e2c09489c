// The open-loop load generator of bench/fleet.mjs: seeded Poisson arrivals with log-normal prompt
// and output lengths, sent through llmlb on 127.0.0.1 at their scheduled times whatever the
// answers, each read to its end (time to first token, end-to-end time, tokens, endpoint).
import { setMaxListeners } from 'node:events';
import { Agent, request } from 'undici';
import { seededRandom } from '../common.mjs';
import { drawLength } from './config.mjs';

const PATH = '/v1/chat/completions';
// Prompt text: 4 characters per token, as the simulated servers count them.
const FILLER = 'lorem ipsum dolor sit amet, '.repeat(1000);

/**
 * The requests of one scenario: `count` arrivals of a Poisson process of `rate` per second
 * (`at` in ms from the start), each with prompt and output lengths and a stream flag. The same
 * seed gives the same list, so every selector faces the same load.
 */
export function makeRequests({ seed, rate, count, load }) {
  const random = seededRandom(seed);
  const requests = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    at += (-Math.log(1 - random()) / rate) * 1000;
    requests.push({ i, at, prompt: drawLength(random, load.prompt), output: drawLength(random, load.output), stream: random() < load.streamShare });
  }
  return requests;
}

function requestBody(model, r) {
  let content = FILLER;
  while (content.length < r.prompt * 4) content += FILLER;
  const body = { model, messages: [{ role: 'user', content: content.slice(0, r.prompt * 4) }], max_tokens: r.output };
  if (r.stream) Object.assign(body, { stream: true, stream_options: { include_usage: true } });
  return JSON.stringify(body);
}

/**
 * One request through llmlb. Resolves (never rejects) `{ i, stream, status, error, ttft, e2e,
 * tokens, endpoint, waited? }`: ttft is the time to the first `data:` event of a stream, tokens
 * the completion tokens of a complete answer (0 otherwise), error null, an HTTP status,
 * `incomplete` or `timeout` (then `waited` is the time until the abort).
 */
async function send(ctx, r) {
  const direct = r.via === 'bypass';
  const t0 = performance.now();
  const out = { i: r.i, stream: r.stream, status: 0, error: null, ttft: null, e2e: null, tokens: 0, endpoint: null };
  // The client gives up `timeoutMs` after sending (or at the scenario's hard stop). A plain timer,
  // not AbortSignal.timeout: inside AbortSignal.any that one is only weakly held and may never fire.
  const own = new AbortController();
  const timer = setTimeout(() => own.abort(), ctx.timeoutMs);
  const signal = AbortSignal.any([ctx.signal, own.signal]);
  try {
    const res = await request((direct ? ctx.bypass.url : ctx.url) + PATH, {
      method: 'POST',
      headers: direct ? ctx.bypass.headers : ctx.headers,
      body: requestBody(ctx.model, r),
      dispatcher: ctx.agent,
      signal,
    });
    out.status = res.statusCode;
    out.endpoint = res.headers['x-llmlb-endpoint'] ?? null;
    let tail = '';
    for await (const chunk of res.body) {
      const text = chunk.toString('utf8');
      if (out.ttft === null && r.stream && text.includes('data: {')) out.ttft = performance.now() - t0;
      tail = (tail + text).slice(-600);
    }
    out.e2e = performance.now() - t0;
    const usage = /"completion_tokens":(\d+)/.exec(tail);
    const complete = r.stream ? tail.endsWith('data: [DONE]\n\n') : res.statusCode === 200;
    if (res.statusCode !== 200) out.error = String(res.statusCode);
    else if (!complete || !usage) out.error = 'incomplete';
    else out.tokens = Number(usage[1]);
  } catch (err) {
    out.error = signal.aborted ? 'timeout' : (err?.code ?? err?.name ?? 'error');
  }
  clearTimeout(timer);
  if (out.error !== null) out.e2e = null;
  // How long an aborted request had waited: a lower bound of its TTFT and end-to-end time.
  if (out.error === 'timeout') out.waited = performance.now() - t0;
  return out;
}

/**
 * Runs one scenario open-loop: each request leaves at its `at`, whatever happened before. Bounded:
 * arrivals stop at `arrivalLimitMs`; a request not answered in full `timeoutMs` after it was sent
 * is aborted and counts as `timeout`. `bypass` (optional, `{ url, requests }`): other clients'
 * requests, sent at their `at` straight to a server (`x-bench-bypass: 1`), not through llmlb.
 * Resolves `{ results, bypass, elapsedMs }`: llmlb's results, the bypass results, and the time
 * from the start to llmlb's last complete answer.
 */
export async function runScenario({ url, model, clientKey, requests, bypass, arrivalLimitMs, timeoutMs }) {
  const controller = new AbortController();
  // A hard stop for the whole scenario, besides each request's own timeout.
  setMaxListeners(Infinity, controller.signal);
  const agent = new Agent({ connections: null, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0 });
  const ctx = { url, model, agent, timeoutMs, signal: controller.signal, headers: { 'content-type': 'application/json', authorization: `Bearer ${clientKey}` } };
  ctx.bypass = { url: bypass?.url, headers: { 'content-type': 'application/json', 'x-bench-bypass': '1' } };
  const timeline = [...requests, ...(bypass?.requests ?? []).map((r) => ({ ...r, via: 'bypass' }))].sort((a, b) => a.at - b.at);
  const pending = [];
  const t0 = performance.now();
  let lastEnd = t0;
  const launch = (r) =>
    pending.push(
      send(ctx, r).then((res) => {
        if (res.error === null && r.via !== 'bypass') lastEnd = Math.max(lastEnd, performance.now());
        return { ...res, via: r.via ?? 'llmlb' };
      }),
    );
  await new Promise((resolve) => {
    let next = 0;
    const tick = () => {
      const now = performance.now() - t0;
      while (next < timeline.length && timeline[next].at <= now) launch(timeline[next++]);
      if (next >= timeline.length || now >= arrivalLimitMs) return resolve();
      setTimeout(tick, Math.max(0, timeline[next].at - now));
    };
    tick();
  });
  const stop = setTimeout(() => controller.abort(), timeoutMs + 2000);
  const all = await Promise.all(pending);
  clearTimeout(stop);
  await agent.destroy();
  return { results: all.filter((r) => r.via === 'llmlb'), bypass: all.filter((r) => r.via === 'bypass'), elapsedMs: lastEnd - t0 };
}
