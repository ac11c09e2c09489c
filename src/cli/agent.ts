/**
 * `llmlb agent`: registers the local inference server with an llmlb router (`POST /v0/nodes`
 * with the registration token), then sends heartbeats (`POST /v0/nodes/heartbeat` with the node
 * token) — with backoff while the router is unreachable or the node awaits approval, every
 * `intervalSecs` once approved. A token the router does not know (the node was rejected, or a
 * router without storage restarted) means registering again; a token delivered in a heartbeat's
 * answer replaces the old one. Stops when its signal aborts. Never logs a token.
 */
import type { Logger } from '../logger.js';
import type { AgentConfig } from './agent-config.js';
import type { GpuReading } from './gpu.js';

/** What the agent works with (injectable for tests). */
export interface AgentDeps {
  logger: Logger;
  /** The GPUs now (nvidia-smi, or none). */
  gpus: () => Promise<GpuReading>;
  /** Longest wait between attempts while something fails, in ms (default 60 s). */
  maxBackoffMs?: number;
}

/** Each request to the router or the local server gives up after this long. */
const REQUEST_TIMEOUT_MS = 10_000;

/** The answer of a call: its status and JSON body (null when it had none or was not JSON). */
interface Answer {
  status: number;
  body: Record<string, unknown> | null;
}

/** Sends one JSON request; throws on network errors and timeouts. */
async function send(url: string, init: { method: string; headers: Record<string, string>; body?: unknown }, signal: AbortSignal): Promise<Answer> {
  const res = await fetch(url, {
    method: init.method,
    headers: { accept: 'application/json', ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
  });
  const text = await res.text();
  try {
    const body: unknown = text === '' ? null : JSON.parse(text);
    return { status: res.status, body: typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : null };
  } catch {
    return { status: res.status, body: null };
  }
}

/** The router's error message in an answer, for logs. */
function errorOf(answer: Answer): string {
  const error = answer.body?.error as { code?: unknown; message?: unknown } | undefined;
  return typeof error?.message === 'string' ? `${String(error.code)}: ${error.message}` : `HTTP ${answer.status}`;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** What the agent holds between rounds. */
interface AgentState {
  /** The node token, once registered. */
  token: string | null;
  /** Failed attempts in a row (router unreachable, refused). */
  failures: number;
  /** Heartbeats answered "pending approval" in a row. */
  pending: number;
}

/**
 * The agent loop of one local server.
 *
 * @example
 * await new NodeAgent(config, { logger, gpus: () => readGpus('nvidia-smi') }).run(stop.signal);
 */
export class NodeAgent {
  readonly #config: AgentConfig;
  readonly #deps: AgentDeps;

  constructor(config: AgentConfig, deps: AgentDeps) {
    this.#config = config;
    this.#deps = deps;
  }

  /** Registers and sends heartbeats until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const state: AgentState = { token: null, failures: 0, pending: 0 };
    const { logger } = this.#deps;
    logger.info({ router: this.#config.router, base_url: this.#config.baseUrl, name: this.#config.name }, 'llmlb agent started');
    while (!signal.aborted) {
      let waitMs: number;
      try {
        waitMs = state.token === null ? await this.#register(state, signal) : await this.#heartbeat(state, signal);
      } catch (err) {
        if (signal.aborted) break;
        state.failures++;
        waitMs = this.#backoff(state.failures);
        logger.warn({ err: { message: err instanceof Error ? err.message : String(err) }, retry_in_ms: waitMs }, 'router unreachable');
      }
      await pause(waitMs, signal);
    }
    logger.info('llmlb agent stopped');
  }

  /** 1 s, 2 s, 4 s, … up to the maximum. */
  #backoff(attempt: number): number {
    return Math.min(this.#deps.maxBackoffMs ?? 60_000, 1000 * 2 ** Math.min(attempt - 1, 16));
  }

  /** One registration attempt; returns how long to wait before the next step. */
  async #register(state: AgentState, signal: AbortSignal): Promise<number> {
    const gpus = await this.#deps.gpus();
    const runtime = await this.#runtime(signal);
    const body = { name: this.#config.name, base_url: this.#config.baseUrl, runtime, gpus: gpus.devices, labels: this.#config.labels };
    const answer = await send(`${this.#config.router}/v0/nodes`, { method: 'POST', headers: { authorization: `Bearer ${this.#config.token}` }, body }, signal);
    const token = answer.body?.node_token;
    if ((answer.status === 200 || answer.status === 201) && typeof token === 'string') {
      state.token = token;
      state.failures = 0;
      state.pending = 0;
      const endpoint = answer.body?.endpoint as { id?: unknown; admin_state?: unknown } | undefined;
      this.#deps.logger.info({ endpoint_id: endpoint?.id, admin_state: endpoint?.admin_state, created: answer.body?.created, gpus: gpus.devices.length }, 'registered with the router');
      return 0;
    }
    state.failures++;
    const waitMs = this.#backoff(state.failures);
    this.#deps.logger.warn({ status: answer.status, error: errorOf(answer), retry_in_ms: waitMs }, 'registration refused');
    return waitMs;
  }

  /** One heartbeat; returns how long to wait before the next. */
  async #heartbeat(state: AgentState, signal: AbortSignal): Promise<number> {
    const answer = await send(`${this.#config.router}/v0/nodes/heartbeat`, { method: 'POST', headers: { 'x-node-token': state.token! }, body: await this.#figures(signal) }, signal);
    const { logger } = this.#deps;
    if (answer.status === 401) {
      state.token = null;
      // Not at once: another instance may not have caught up with the registration yet.
      const waitMs = this.#backoff(++state.failures);
      logger.warn({ status: 401, retry_in_ms: waitMs }, 'the router does not know this node: registering again');
      return waitMs;
    }
    if (answer.status !== 200 || answer.body === null) {
      state.failures++;
      const waitMs = this.#backoff(state.failures);
      logger.warn({ status: answer.status, error: errorOf(answer), retry_in_ms: waitMs }, 'heartbeat refused');
      return waitMs;
    }
    state.failures = 0;
    if (typeof answer.body.node_token === 'string') {
      state.token = answer.body.node_token;
      logger.info('node token rotated');
    }
    if (answer.body.admin_state === 'pending_approval') {
      if (state.pending++ === 0) logger.info({ endpoint_id: answer.body.endpoint_id }, 'waiting for approval');
      return Math.min(this.#config.intervalSecs * 1000, this.#backoff(state.pending));
    }
    if (state.pending > 0) logger.info({ endpoint_id: answer.body.endpoint_id, admin_state: answer.body.admin_state }, 'approved');
    state.pending = 0;
    logger.debug({ status: answer.body.status }, 'heartbeat');
    return this.#config.intervalSecs * 1000;
  }

  /** The runtime as configured, or detected: Ollama answers `/api/version`. */
  async #runtime(signal: AbortSignal): Promise<{ type: string; version: string | null }> {
    const { runtime, runtimeVersion } = this.#config;
    if (runtime !== null && runtime !== 'ollama') return { type: runtime, version: runtimeVersion };
    const version = await this.#local('/api/version', signal).then((body) => (typeof body?.version === 'string' ? body.version.slice(0, 100) : null));
    if (version === null && runtime === null) return { type: 'openai-compatible', version: runtimeVersion };
    return { type: 'ollama', version: runtimeVersion ?? version };
  }

  /** A heartbeat's figures: GPU utilisation, and the models Ollama has loaded. */
  async #figures(signal: AbortSignal): Promise<Record<string, unknown>> {
    const figures: Record<string, unknown> = {};
    const gpus = await this.#deps.gpus();
    if (gpus.utilization !== null) figures.gpu_utilization = gpus.utilization;
    if (this.#config.runtime === null || this.#config.runtime === 'ollama') {
      const ps = await this.#local('/api/ps', signal);
      const models = Array.isArray(ps?.models) ? (ps.models as { name?: unknown }[]).map((m) => m.name).filter((n): n is string => typeof n === 'string' && n !== '') : null;
      if (models !== null) figures.loaded_models = models.slice(0, 1000).map((m) => m.slice(0, 512));
    }
    return figures;
  }

  /** A JSON answer of the local server, or null when it gives none. */
  async #local(path: string, signal: AbortSignal): Promise<Record<string, unknown> | null> {
    try {
      const answer = await send(`${this.#config.baseUrl}${path}`, { method: 'GET', headers: {} }, signal);
      return answer.status === 200 ? answer.body : null;
    } catch {
      return null;
    }
  }
}
