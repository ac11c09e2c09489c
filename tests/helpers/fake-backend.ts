/**
 * Fake inference servers of each type, serving the recorded responses of
 * `tests/fixtures/backends/<type>/` (bodies and headers) on 127.0.0.1, on top of
 * {@link FakeUpstream} (which answers the inference routes). A route's body can be replaced
 * between requests (`serve`), or the route taken away (`remove`).
 */
import { readFileSync } from 'node:fs';
import type { EndpointType } from '../../src/schema.js';
import { FakeUpstream, json } from './fake-upstream.js';

const FIXTURES = new URL('../fixtures/backends/', import.meta.url);

/** The text of a recorded response. */
export function backendFixture(type: EndpointType, file: string): string {
  return readFileSync(new URL(`${type}/${file}`, FIXTURES), 'utf8');
}

/** The parsed body of a recorded JSON response. */
export function backendJson(type: EndpointType, file: string): unknown {
  return JSON.parse(backendFixture(type, file)) as unknown;
}

/** Each type's GET routes and the fixture each answers with. */
const ROUTES: Readonly<Record<EndpointType, Readonly<Record<string, string>>>> = {
  ollama: { '/v1/models': 'v1-models.json', '/api/version': 'api-version.json', '/api/tags': 'api-tags.json', '/api/ps': 'api-ps.json' },
  vllm: { '/v1/models': 'v1-models.json', '/version': 'version.json', '/metrics': 'metrics.txt' },
  'llama.cpp': { '/v1/models': 'v1-models.json', '/props': 'props.json', '/slots': 'slots.json', '/metrics': 'metrics.txt' },
  'lm-studio': { '/v1/models': 'v1-models.json', '/api/v0/models': 'api-v0-models.json' },
  sglang: { '/v1/models': 'v1-models.json', '/get_model_info': 'get_model_info.json', '/metrics': 'metrics.txt' },
  'openai-compatible': { '/v1/models': 'v1-models.json' },
};

/** Ollama's `/api/show` fixture per model (others get the first one's). */
const OLLAMA_SHOW: Readonly<Record<string, string>> = {
  'llama3.1:8b': 'api-show-llama3.1.json',
  'nomic-embed-text:latest': 'api-show-nomic-embed-text.json',
  'qwen2.5vl:7b': 'api-show-qwen2.5-vl.json',
};

/** A fake server of one type. */
export interface FakeBackend {
  readonly type: EndpointType;
  readonly upstream: FakeUpstream;
  /** Base URL. */
  url(): string;
  /** Answers `GET path` with `body` from now on (headers as recorded for the path, else JSON or text by the body). */
  serve(path: string, body: string): void;
  /** Takes `GET path` away: 404 from now on. */
  remove(path: string): void;
  stop(): Promise<void>;
}

/**
 * Starts a fake server of `type` answering its recorded responses; `without` routes answer 404
 * (e.g. an Ollama without `/v1/models`).
 *
 * @example
 * const ollama = await startFakeBackend('ollama', { without: ['/v1/models'] });
 */
export async function startFakeBackend(type: EndpointType, options: { without?: string[] } = {}): Promise<FakeBackend> {
  const upstream = await new FakeUpstream({ name: type }).start();
  const headers = backendJson(type, 'headers.json') as Record<string, Record<string, string>>;
  const serve = (path: string, body: string): void => {
    const recorded = headers[path] ?? { 'content-type': body.trimStart().startsWith('{') || body.trimStart().startsWith('[') ? 'application/json' : 'text/plain; version=0.0.4' };
    upstream.routes.set(`GET ${path}`, (_req, res) => {
      res.writeHead(200, { ...recorded, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  };
  const remove = (path: string): void => {
    upstream.routes.set(`GET ${path}`, (_req, res) => json(res, 404, { error: { message: `no route GET ${path}` } }));
  };
  for (const [path, file] of Object.entries(ROUTES[type])) serve(path, backendFixture(type, file));
  if (type === 'ollama') {
    upstream.routes.set('POST /api/show', (_req, res, body) => {
      const model = (JSON.parse(body.toString('utf8')) as { model?: string }).model ?? '';
      json(res, 200, backendJson('ollama', OLLAMA_SHOW[model] ?? 'api-show-llama3.1.json'));
    });
  }
  for (const path of options.without ?? []) remove(path);
  return { type, upstream, url: () => upstream.url(), serve, remove, stop: () => upstream.stop() };
}
