/**
 * Property-based fuzzing of the `/v0` admin API through the real HTTP stack (SPEC §6, §7: "bad
 * input always gets a clear 4xx with the error shape, and changes nothing").
 *
 * A router on a SQLite file (checker off, so nothing changes behind the test's back) is seeded
 * with two endpoints; then every property sends generated, invalid requests as raw bytes (so
 * duplicate keys and `__proto__` members really are in the JSON text) and checks that:
 *
 * - the answer is a documented 4xx (400, 401, 403, 404, 405, 409, 413, 415) — never a 5xx, never
 *   a dropped connection — whose body is exactly `{"error":{"code","message","details?"}}` and
 *   whose code maps to that status;
 * - no secret (stored or sent api key) appears in the answer;
 * - the database is unchanged: the `GET /v0/endpoints` view, every raw row of every table and the
 *   schema (read through a separate read-only better-sqlite3 connection), and SQLite's
 *   `data_version` (which moves whenever another connection commits anything);
 * - `Object.prototype` was not polluted.
 *
 * Lengths are counted in code points, as the router (zod 4) counts "characters".
 *
 * Generators are built so that every request they produce is invalid; the valid inputs that look
 * exotic (emoji, RTL, SQL-ish names, IPv6 URLs, …) live in a separate property that expects
 * acceptance and cleans up after itself. A case that does change stored state gets a fresh
 * fixture afterwards, so fast-check shrinks it to a counterexample that fails on its own.
 *
 * Reproduce a failure with the seed fast-check prints: `LLMLB_FUZZ_SEED=<seed> npx vitest run
 * tests/reliability/fuzz-admin.test.ts` (plus `LLMLB_FUZZ_PATH=<path>` to jump to the shrunk case);
 * soak with `LLMLB_FUZZ_RUNS=<factor>`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { Agent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HTTP_STATUS_BY_CODE } from '../../src/errors.js';
import { sqliteStorage } from '../../src/storage/sqlite/index.js';
import { type FakeUpstream, startFakeUpstream } from '../helpers/fake-upstream.js';
import { ADMIN_KEY, CLIENT_KEY, type LlmlbServer, NODE_KEY, SECRET, VIEWER_KEY, startLlmlb } from '../helpers/llmlb-server.js';

// ---------------------------------------------------------------------------------------------
// Reproducibility
// ---------------------------------------------------------------------------------------------

const SEED = process.env.LLMLB_FUZZ_SEED === undefined ? undefined : Number(process.env.LLMLB_FUZZ_SEED);
const PATH = process.env.LLMLB_FUZZ_PATH;
/** Multiplies every property's number of runs, for a longer soak (`LLMLB_FUZZ_RUNS=20`). */
const RUNS_FACTOR = Number(process.env.LLMLB_FUZZ_RUNS ?? 1) || 1;

function params(numRuns: number): fc.Parameters<unknown> {
  return { numRuns: Math.ceil(numRuns * RUNS_FACTOR), ...(SEED === undefined ? {} : { seed: SEED }), ...(PATH === undefined ? {} : { path: PATH }) };
}

// ---------------------------------------------------------------------------------------------
// The seeded endpoints (fixed values, so generators can aim at them)
// ---------------------------------------------------------------------------------------------

const A = { name: 'seed-alpha', base_url: 'http://127.0.0.1:9/alpha', api_key: 'sk-seed-alpha-secret-7f3a9c', notes: 'first' };
const B = { name: 'seed-beta', base_url: 'http://[::1]:9/beta' };
/** Placeholder in generated paths, replaced by the id of endpoint A at request time. */
const ID_A = ':A:';
/** The seeded runtime keys: K (a client key with limits) and R (revoked). */
const KEY_K = { name: 'seed-key', role: 'client', limits: { requests_per_minute: 60, max_concurrency: 2, models: ['llama3.1:8b'] } };
const KEY_R = { name: 'seed-revoked', role: 'viewer' };
/** Placeholders replaced by the ids of keys K and R, and of the configured client key. */
const ID_K = ':K:';
const ID_R = ':R:';
const ID_CFG = ':CFG:';
/** Placeholder in generated paths, replaced by the id of the seeded node (pending approval). */
const ID_N = ':N:';

const STATUSES = ['pending', 'online', 'offline', 'error'] as const;
const CREATE_KEYS = ['name', 'base_url', 'api_key', 'health_check_interval_secs', 'inference_timeout_secs', 'notes', 'models'];
const UPDATE_KEYS = ['name', 'api_key', 'health_check_interval_secs', 'inference_timeout_secs', 'notes', 'models'];
/** The seeded alias (fixed, so generators can aim at it). */
const SEED_ALIAS = { name: 'seed/alias', targets: ['seed-model:8b', 'org/Seed-Model'] };
const REJECTIONS = [400, 401, 403, 404, 405, 409, 413, 415] as const;
const ADMIN_BODY_LIMIT = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Harness: one router on a SQLite file per test, a raw HTTP client, snapshots
// ---------------------------------------------------------------------------------------------

interface Req {
  method: string;
  /** Raw request target; `:A:` is replaced by endpoint A's id. */
  path: string;
  body?: string | Buffer;
  /** `undefined`: application/json when there is a body; `null`: no header. */
  contentType?: string | null;
  /** `undefined`: the admin key; `null`: no header; else the raw header value. */
  auth?: string | null;
  /** An `X-Node-Token` header, when set. */
  nodeToken?: string;
  /** Send the body chunked (no content-length), in pieces. */
  chunked?: boolean;
}

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

interface Snapshot {
  list: unknown;
  rows: Record<string, unknown[]>;
  dataVersion: unknown;
}

let dir: string;
let llmlb: LlmlbServer;
let db: Database.Database;
let agent: Agent;
let idA: string;
let keyIds: Record<string, string>;
/** Secrets of the seeded runtime keys: never in an answer after their creation. */
let keySecrets: string[];
/** A self-registered node, pending approval: its endpoint id, its token, and its server. */
let idN: string;
let nodeToken: string;
let nodeUpstream: FakeUpstream;
let baseline: Snapshot;
let protoBaseline: Map<string, PropertyDescriptor>;

async function setupFixture(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'llmlb-fuzz-'));
  const filename = join(dir, 'llmlb.db');
  llmlb = await startLlmlb({ storage: sqliteStorage({ filename }), checker: false });
  agent = new Agent({ connections: 4, keepAliveTimeout: 10_000 });
  const a = await llmlb.admin('POST', '/v0/endpoints', A);
  const b = await llmlb.admin('POST', '/v0/endpoints', B);
  const alias = await llmlb.admin('POST', '/v0/aliases', SEED_ALIAS);
  expect([a.status, b.status, alias.status]).toEqual([201, 201, 201]);
  idA = a.body.id as string;
  const k = await llmlb.admin('POST', '/v0/keys', KEY_K);
  const r = await llmlb.admin('POST', '/v0/keys', KEY_R);
  expect([k.status, r.status, (await llmlb.admin('DELETE', `/v0/keys/${r.body.id}`)).status]).toEqual([201, 201, 204]);
  const configured = (await llmlb.admin('GET', '/v0/keys')).body.keys.find((key: { role: string; source: string }) => key.source === 'config' && key.role === 'client');
  keyIds = { [ID_K]: k.body.id, [ID_R]: r.body.id, [ID_CFG]: configured.id };
  keySecrets = [k.body.secret, r.body.secret];
  nodeUpstream = await startFakeUpstream({ name: 'seed-node' });
  const node = await fetch(`${llmlb.url}/v0/nodes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${NODE_KEY}`, 'content-type': 'application/json' },
    body: j({ name: 'seed-node', base_url: nodeUpstream.url(), gpus: [{ model: 'NVIDIA L4', memory_mb: 23034 }], labels: { zone: 'a' } }),
  });
  expect(node.status).toBe(201);
  const registered = (await node.json()) as { endpoint: { id: string }; node_token: string };
  [idN, nodeToken] = [registered.endpoint.id, registered.node_token];
  db = new Database(filename, { readonly: true, fileMustExist: true });
  baseline = await snapshot();
}

async function teardownFixture(): Promise<void> {
  db?.close();
  await agent?.close();
  await llmlb?.close();
  await nodeUpstream?.stop();
  // A failing setup must not make the next teardown close these twice.
  [db, agent, llmlb, nodeUpstream] = [undefined as never, undefined as never, undefined as never, undefined as never];
  rmSync(dir, { recursive: true, force: true });
}

beforeEach(async () => {
  await setupFixture();
  protoBaseline = prototypeState();
});

afterEach(teardownFixture);

/**
 * fast-check hook run after every case: a case that changed stored state (a failure) gets a fresh
 * fixture, so that shrinking replays each smaller case from the same clean state and the reported
 * counterexample is one that fails on its own.
 */
async function resetIfChanged(previous: () => Promise<unknown> | unknown): Promise<void> {
  await previous();
  if (JSON.stringify(await snapshot()) === JSON.stringify(baseline)) return;
  await teardownFixture();
  await setupFixture();
}

async function send(req: Req): Promise<Res> {
  const headers: Record<string, string> = {};
  const auth = req.auth === undefined ? `Bearer ${ADMIN_KEY}` : req.auth;
  if (auth !== null) headers.authorization = auth;
  if (req.nodeToken !== undefined) headers['x-node-token'] = req.nodeToken;
  const contentType = req.contentType === undefined ? (req.body === undefined ? null : 'application/json') : req.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  let body: string | Buffer | Readable | undefined = req.body;
  if (req.body !== undefined && req.chunked) {
    const bytes = Buffer.from(req.body);
    const pieces: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 16 * 1024) pieces.push(bytes.subarray(i, i + 16 * 1024));
    body = Readable.from(pieces.length === 0 ? [Buffer.alloc(0)] : pieces);
  }
  let path = req.path.split(ID_A).join(idA).split(ID_N).join(idN);
  for (const [placeholder, id] of Object.entries(keyIds)) path = path.split(placeholder).join(id);
  const res = await agent.request({
    origin: llmlb.url,
    path,
    method: req.method as 'GET',
    headers,
    body,
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/** Everything observable about stored state. */
async function snapshot(): Promise<Snapshot> {
  const [list, aliases, nodes, keys] = [
    await llmlb.admin('GET', '/v0/endpoints'),
    await llmlb.admin('GET', '/v0/aliases'),
    await llmlb.admin('GET', '/v0/nodes'),
    await llmlb.admin('GET', '/v0/keys'),
  ];
  expect([list.status, aliases.status, nodes.status, keys.status]).toEqual([200, 200, 200, 200]);
  return {
    list: { endpoints: list.body, aliases: aliases.body, nodes: nodes.body, keys: keys.body },
    rows: {
      model_aliases: db.prepare('SELECT * FROM model_aliases ORDER BY name').all(),
      nodes: db.prepare('SELECT * FROM nodes ORDER BY endpoint_id').all(),
      llmlb_keys: db.prepare('SELECT * FROM llmlb_keys ORDER BY id').all(),
      llmlb_key_usage: db.prepare('SELECT * FROM llmlb_key_usage ORDER BY key_id, model, hour').all(),
      endpoints: db.prepare('SELECT * FROM endpoints ORDER BY id').all(),
      endpoint_models: db.prepare('SELECT * FROM endpoint_models ORDER BY endpoint_id, model_id').all(),
      endpoint_health_checks: db.prepare('SELECT * FROM endpoint_health_checks ORDER BY id').all(),
      schema: db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all(),
    },
    dataVersion: db.pragma('data_version', { simple: true }),
  };
}

const PROTOTYPES: Record<string, object> = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype, String: String.prototype };

/** Every own property of the built-in prototypes a pollution would land on, by descriptor. */
function prototypeState(): Map<string, PropertyDescriptor> {
  const state = new Map<string, PropertyDescriptor>();
  for (const [name, target] of Object.entries(PROTOTYPES)) {
    for (const key of Reflect.ownKeys(target)) state.set(`${name}.prototype.${String(key)}`, Object.getOwnPropertyDescriptor(target, key)!);
  }
  return state;
}

function expectNotPolluted(): void {
  const now = prototypeState();
  expect([...now.keys()]).toEqual([...protoBaseline.keys()]);
  for (const [key, descriptor] of now) {
    const before = protoBaseline.get(key)!;
    if (descriptor.value !== before.value || descriptor.get !== before.get || descriptor.set !== before.set) {
      throw new Error(`${key} was changed`);
    }
  }
  const probe = {} as Record<string, unknown>;
  for (const key of ['polluted', 'isAdmin', 'role', 'status', 'name', 'base_url']) expect(probe[key]).toBeUndefined();
}

async function expectUnchanged(): Promise<void> {
  const now = await snapshot();
  if (JSON.stringify(now) !== JSON.stringify(baseline)) expect(now).toEqual(baseline);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Asserts a documented admin error: allowed status, exact body shape, code ↔ status, no secret. */
function expectAdminError(res: Res, allowed: readonly number[], req: Req, secrets: readonly string[] = []): void {
  const where = `${req.method} ${req.path.slice(0, 200)} → ${res.status} ${res.text.slice(0, 300)}`;
  if (!allowed.includes(res.status)) throw new Error(`status ${res.status} is not one of ${allowed.join(', ')}: ${where}`);
  expect(String(res.headers['content-type']), where).toMatch(/^application\/json/);
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    throw new Error(`error body is not JSON: ${where}`);
  }
  if (!isPlainObject(body) || Object.keys(body).join() !== 'error' || !isPlainObject(body.error)) {
    throw new Error(`error body is not {"error":{…}}: ${where}`);
  }
  const error = body.error;
  for (const key of Object.keys(error)) {
    if (!['code', 'message', 'details'].includes(key)) throw new Error(`unexpected key ${key} in error: ${where}`);
  }
  if (typeof error.code !== 'string' || typeof error.message !== 'string' || error.message === '') {
    throw new Error(`error.code / error.message missing: ${where}`);
  }
  const mapped = (HTTP_STATUS_BY_CODE as Record<string, number>)[error.code];
  if (mapped !== res.status) throw new Error(`code ${error.code} does not map to ${res.status}: ${where}`);
  if (error.details !== undefined) {
    if (!Array.isArray(error.details)) throw new Error(`details is not an array: ${where}`);
    for (const detail of error.details as unknown[]) {
      if (!isPlainObject(detail) || Object.keys(detail).sort().join() !== 'message,path' || typeof detail.path !== 'string' || typeof detail.message !== 'string') {
        throw new Error(`malformed detail ${JSON.stringify(detail)}: ${where}`);
      }
    }
  }
  if (res.status === 401) expect(res.headers['www-authenticate'], where).toBe('Bearer');
  if (res.status === 405) expect(typeof res.headers.allow, where).toBe('string');
  const digest = (db.prepare('SELECT token_sha256 FROM nodes').get() as { token_sha256: string } | undefined)?.token_sha256 ?? SECRET;
  for (const secret of [A.api_key, SECRET, ADMIN_KEY, VIEWER_KEY, CLIENT_KEY, NODE_KEY, nodeToken, digest, ...keySecrets, ...secrets]) {
    if (res.text.includes(secret)) throw new Error(`a secret leaked into the answer: ${where}`);
  }
}

/** Sends an invalid request and checks the whole property. */
async function expectRejected(req: Req, allowed: readonly number[] = REJECTIONS, secrets: readonly string[] = []): Promise<Res> {
  const res = await send(req);
  expectAdminError(res, allowed, req, secrets);
  await expectUnchanged();
  expectNotPolluted();
  return res;
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/** A raw JSON object member: key and the JSON text of its value. */
type Entry = readonly [key: string, valueText: string];

const j = (value: unknown): string => JSON.stringify(value);
const objectText = (entries: readonly Entry[]): string => `{${entries.map(([k, v]) => `${j(k)}:${v}`).join(',')}}`;
const range = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => String.fromCharCode(from + i));

const CONTROL_CHARS = [...range(0x00, 0x1f), ...range(0x7f, 0x9f), '\u2028', '\u2029'];
const NAME_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const isValidName = (s: string): boolean => {
  const t = s.trim();
  return t.length >= 1 && codePoints(t) <= 100 && !NAME_CONTROL.test(t) && t !== A.name && t !== B.name;
};

const SQLISH = [
  "'; DROP TABLE endpoints; --",
  "x'); DELETE FROM endpoints; --",
  '" OR 1=1 --',
  "' OR '1'='1",
  "1; UPDATE endpoints SET status='online'",
  "' UNION SELECT api_key_encrypted FROM endpoints --",
  "Robert'); DROP TABLE endpoint_models;--",
  "'; ATTACH DATABASE '/tmp/pwn.db' AS pwn; --",
  '%\' OR \'%\'=\'',
  '\\\'; --',
  '$(reboot)',
  '`id`',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'NULL',
];
const UNICODE_NAMES = [
  'مرحبا بالعالم',
  'שלום עולם',
  '\u202Egnp.exe',
  'RTL \u200F mark',
  '👩‍👩‍👧‍👦 cluster',
  '🦙 llama box',
  '日本語のエンドポイント',
  'Z̴͉̊a̵̤͝l̶̞̈g̴͕͒o̷̡͌',
  'ﷺ',
  'zero\u200Bwidth',
  'Ω≈ç√∫',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'e\u0301 vs é',
  'İstanbul ß',
  '  padded name  ',
  '\u00A0nbsp\u00A0',
];

const visibleAscii = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
const printableAscii = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
const anyJson = fc.jsonValue({ maxDepth: 3 });
const nonString = anyJson.filter((v) => typeof v !== 'string');
const nonStringNonNull = nonString.filter((v) => v !== null);
const nonNumber = anyJson.filter((v) => typeof v !== 'number');
/** Length in Unicode code points: how the router counts "characters" (zod 4's string length checks). */
const codePoints = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};
/** A string of `min`–`max` code points, repeated from a short seed (cheap even at 100 KB). */
const bigString = (min: number, max: number) =>
  fc
    .tuple(fc.integer({ min, max }), fc.constantFrom('x', 'é', '😀', 'א', '日', '\\', '"'))
    .map(([n, unit]) => unit.repeat(n));

const validName = fc
  .oneof(fc.constantFrom(...UNICODE_NAMES, ...SQLISH), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), fc.string({ unit: visibleAscii, minLength: 1, maxLength: 30 }))
  .filter(isValidName);
const octet = fc.integer({ min: 0, max: 255 });
const port = fc.integer({ min: 1, max: 65535 });
const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/);
const validUrl = fc.oneof(
  fc.tuple(octet, octet, octet, port).map(([a, b, c, p]) => `http://10.${a}.${b}.${c}:${p}`),
  fc.tuple(fc.integer({ min: 1, max: 0xffff }), port).map(([h, p]) => `https://[fd00::${h.toString(16)}]:${p}/v1`),
  fc.tuple(label, port, label).map(([host, p, path]) => `http://${host}.example.test:${p}/${path}/`),
);
const validApiKey = fc.string({ unit: visibleAscii, minLength: 8, maxLength: 64 });
const validNotes = fc.string({ unit: 'grapheme', maxLength: 80 });

/** Names that are never valid (or always conflict with endpoint B). */
const invalidName = fc.oneof(
  nonString.map(j),
  fc.constantFrom('', ' ', '   \t\n', '\u3000\u00a0', '\r\n', '\u2028').map(j),
  bigString(101, 100_000).filter((s) => codePoints(s.trim()) > 100).map(j),
  fc.tuple(fc.string({ unit: 'grapheme', maxLength: 10 }), fc.constantFrom(...CONTROL_CHARS), fc.string({ unit: 'grapheme', maxLength: 10 })).map(([a, c, b]) => j(`x${a}${c}${b}x`)),
);
const conflictingName = fc.constantFrom(B.name, ` ${B.name}`, `${B.name}\t`, `\u00a0${B.name}\u3000`).map(j);

const BAD_URLS = [
  '', ' ', 'http://', 'https://', 'http://?', 'http://#', 'http://:80', 'http://:80/x',
  'javascript:alert(1)', 'JaVaScRiPt:alert(document.cookie)', 'javascript://%0aalert(1)', 'file:///etc/passwd', 'file://localhost/etc/passwd',
  'data:text/html,<script>alert(1)</script>', 'data:,', 'ftp://example.com', 'ws://example.com', 'wss://example.com', 'mailto:a@b.c',
  'gopher://x', 'about:blank', 'blob:http://x/uuid', 'vbscript:msgbox', 'ssh://host', 'localhost:11434', '127.0.0.1:11434', '//example.com',
  '/v1', 'example.com', 'not a url', 'http//example.com',
  'http://[::1', 'http://[::1]]', 'http://[:::1]', 'http://[1::2::3]', 'http://[::g]', 'http://[12345::]', 'http://::1/', 'http://[::1]:99999',
  'http://[fe80::1%25eth0]', 'http://[::ffff:999.1.1.1]', 'http://[1:2:3:4:5:6:7:8:9]', 'http://[]',
  'http://host:65536', 'http://host:99999', 'http://host:-1', 'http://host:1e3', 'http://host:0x50', 'http://host: 80', 'http://host:8080:80', 'http://host:80a',
  'http://exa mple.com', 'http:// example.com', 'http://example .com/', 'http://a\u0000b', 'http://a<b', 'http://a>b', 'http://a^b', 'http://a|b', 'http://%',
  'http://a%zz', 'http://a%00b', 'http://999.999.999.999', 'http://1.2.3.4.5', 'http://0x100000000', 'http://256.0.0.1',
  'http://user:pass@example.com', 'http://user@example.com', 'http://:pass@example.com', 'https://admin:hunter2@10.0.0.1:11434/v1', 'http://user%40x:p@h',
  'http://example.com/?', 'http://example.com?a=1', 'http://example.com/#', 'http://example.com/#frag', 'http://example.com/v1?key=sk-123',
];
/** True when WHATWG URL parsing gives an http(s) URL with a host (the only candidates for validity). */
const mayBeHttpUrl = (s: string): boolean => {
  try {
    const url = new URL(s.trim());
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
};
const invalidUrl = fc.oneof(
  nonString.map(j),
  fc.constantFrom(...BAD_URLS).map(j),
  fc
    .tuple(fc.constantFrom('javascript:', 'file://', 'data:', 'ftp://', 'ws://', 'gopher://', 'mailto:', 'chrome-extension://', 'smb://', 'ldap://', 'dict://', 'tel:', 'view-source:http://', 'jar:http://'), fc.string({ maxLength: 40 }))
    .map(([scheme, rest]) => j(scheme + rest)),
  fc.string({ maxLength: 60 }).filter((s) => !mayBeHttpUrl(s)).map(j),
  fc.tuple(fc.stringMatching(/^[a-z0-9]{1,10}$/), fc.option(fc.stringMatching(/^[a-z0-9]{0,10}$/)), label).map(([user, pass, host]) => j(`http://${user}${pass === null ? '' : `:${pass}`}@${host}.test`)),
  fc.tuple(label, fc.integer({ min: 65536, max: 2 ** 40 })).map(([host, p]) => j(`http://${host}.test:${p}`)),
  fc.tuple(label, fc.string({ maxLength: 20 }), fc.constantFrom('?', '#')).map(([host, rest, mark]) => j(`http://${host}.test/x${mark}${rest}`)),
  fc.tuple(label, fc.constantFrom(...CONTROL_CHARS.filter((c) => !'\t\n\r'.includes(c))), label).map(([a, c, b]) => j(`http://${a}${c}${b}.test/`)),
  bigString(2049, 100_000).map((s) => j(`http://example.test/${encodeURIComponent(s)}`)),
);
/** base_url values that normalise to endpoint A's URL (a 409 when everything else is valid). */
const conflictingUrl = fc.constantFrom(A.base_url, `${A.base_url}/`, `${A.base_url}/v1`, `${A.base_url}/v1/`, ' HTTP://127.0.0.1:9/alpha ', 'http://127.0.0.1:9/alpha//').map(j);

const invalidApiKey = fc.oneof(
  nonStringNonNull.map(j),
  fc.constant(j('')),
  fc
    .tuple(fc.string({ unit: visibleAscii, maxLength: 20 }), fc.constantFrom(' ', '\t', '\n', '\u0000', '\u007f', 'é', '€', '🔑', '\u00a0', '\r\n'), fc.string({ unit: visibleAscii, maxLength: 20 }))
    .map(([a, c, b]) => j(a + c + b)),
  bigString(4097, 100_000).map((s) => j(s.replace(/[^\x21-\x7e]/g, 'k').padEnd(4097, 'k'))),
);
const invalidInt = (min: number, max: number) =>
  fc.oneof(
    nonNumber.map(j),
    fc.integer({ min: -1_000_000_000, max: min - 1 }).map(j),
    fc.integer({ min: max + 1, max: 1_000_000_000_000 }).map(j),
    fc.double({ min, max, noNaN: true }).filter((x) => !Number.isInteger(x)).map(j),
    fc.constantFrom('1e400', '-1e400', '1e-7', '9007199254740993', `"${min}"`, `[${min}]`, `{"secs":${min}}`, 'true', 'null', `${max + 0.5}`, '-0'),
  );
const invalidInterval = invalidInt(10, 300);
const invalidTimeout = invalidInt(10, 600);
const invalidNotes = fc.oneof(nonStringNonNull.map(j), bigString(2001, 100_000).map(j));
/** Static model lists that are never valid. */
const invalidModels = fc.oneof(
  nonStringNonNull.filter((v) => !Array.isArray(v)).map(j),
  fc.constantFrom('[]', '[""]', '["a","a"]', '[" a"]', '["a\\u0000"]', '[{"model_id":"a","capabilities":[]}]', '[{"model_id":"a","capabilities":["Chat"]}]', '[{"id":"a"}]', '[{"model_id":"a","extra":1}]', '["a",{"model_id":"a"}]', '[null]', '[[]]'),
  fc.integer({ min: 1001, max: 1500 }).map((n) => j(Array.from({ length: n }, (_, i) => `m${i}`))),
);

const POLLUTION_VALUES = [
  '{"polluted":"yes","isAdmin":true,"role":"admin"}',
  '{"__proto__":{"polluted":"deep"}}',
  '{"constructor":{"prototype":{"polluted":"ctor"}}}',
  '{"prototype":{"polluted":"proto"}}',
  'null',
  '[]',
  '"polluted"',
];
const unknownKey = (known: readonly string[]) =>
  fc.oneof(
    fc.constantFrom('__proto__', 'constructor', 'prototype', 'id', 'status', 'error_count', 'latency_ms', 'registered_at', 'api_key_encrypted', 'has_api_key', 'Name', 'NAME', 'base_url ', ' name', 'name\u0000', 'models', 'apiKey', 'baseUrl'),
    fc.string({ maxLength: 20 }),
  ).filter((k) => !known.includes(k));
const unknownMember = (known: readonly string[]) =>
  fc.tuple(unknownKey(known), fc.oneof(fc.constantFrom(...POLLUTION_VALUES), anyJson.map(j)));

type Mutation =
  | { kind: 'set'; key: string; value: string }
  | { kind: 'drop'; key: string }
  | { kind: 'unknown'; key: string; value: string }
  | { kind: 'dup'; key: string; value: string };

function applyMutations(entries: readonly Entry[], mutations: readonly Mutation[]): Entry[] {
  let out = [...entries];
  for (const m of mutations) {
    switch (m.kind) {
      case 'set':
        out = [...out.filter(([k]) => k !== m.key), [m.key, m.value]];
        break;
      case 'drop':
        out = out.filter(([k]) => k !== m.key);
        break;
      case 'unknown':
      case 'dup': // the invalid copy comes last, and JSON.parse keeps the last one
        out = [...out, [m.key, m.value]];
        break;
    }
  }
  return out;
}

/** Every way a create body can be wrong, as raw JSON values per field. */
const invalidCreateValue = fc.oneof(
  invalidName.map((value) => ({ key: 'name', value })),
  conflictingName.map((value) => ({ key: 'name', value })),
  invalidUrl.map((value) => ({ key: 'base_url', value })),
  conflictingUrl.map((value) => ({ key: 'base_url', value })),
  fc.oneof(invalidApiKey, fc.constant('null')).map((value) => ({ key: 'api_key', value })),
  invalidInterval.map((value) => ({ key: 'health_check_interval_secs', value })),
  invalidTimeout.map((value) => ({ key: 'inference_timeout_secs', value })),
  fc.oneof(invalidNotes, fc.constant('null')).map((value) => ({ key: 'notes', value })),
  invalidModels.map((value) => ({ key: 'models', value })),
);
const createMutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: invalidCreateValue.map((v): Mutation => ({ kind: 'set', ...v })) },
  { weight: 1, arbitrary: fc.constantFrom('name', 'base_url').map((key): Mutation => ({ kind: 'drop', key })) },
  { weight: 2, arbitrary: unknownMember(CREATE_KEYS).map(([key, value]): Mutation => ({ kind: 'unknown', key, value })) },
  { weight: 1, arbitrary: invalidCreateValue.map((v): Mutation => ({ kind: 'dup', ...v })) },
);

/** A valid create body as entries (optional fields may be missing). */
const validCreateEntries: fc.Arbitrary<Entry[]> = fc
  .record(
    {
      name: validName,
      base_url: validUrl,
      api_key: validApiKey,
      health_check_interval_secs: fc.integer({ min: 10, max: 300 }),
      inference_timeout_secs: fc.integer({ min: 10, max: 600 }),
      notes: validNotes,
    },
    { requiredKeys: ['name', 'base_url'] },
  )
  .map((r) => Object.entries(r).map(([k, v]): Entry => [k, j(v)]));

/** A valid update body as entries: any subset of the updatable fields (nulls included). */
const validUpdateEntries: fc.Arbitrary<Entry[]> = fc
  .record(
    {
      name: validName,
      api_key: fc.option(validApiKey),
      health_check_interval_secs: fc.integer({ min: 10, max: 300 }),
      inference_timeout_secs: fc.integer({ min: 10, max: 600 }),
      notes: fc.option(validNotes),
    },
    { requiredKeys: [] },
  )
  .map((r) => Object.entries(r).map(([k, v]): Entry => [k, j(v)]));

const invalidUpdateValue = fc.oneof(
  invalidName.map((value) => ({ key: 'name', value })),
  conflictingName.map((value) => ({ key: 'name', value })),
  invalidApiKey.map((value) => ({ key: 'api_key', value })),
  invalidInterval.map((value) => ({ key: 'health_check_interval_secs', value })),
  invalidTimeout.map((value) => ({ key: 'inference_timeout_secs', value })),
  invalidNotes.map((value) => ({ key: 'notes', value })),
  invalidModels.map((value) => ({ key: 'models', value })),
  // base_url can never change: any value is a 400, even the current one.
  fc.oneof(fc.constant(j(A.base_url)), validUrl.map(j), invalidUrl, conflictingUrl, anyJson.map(j)).map((value) => ({ key: 'base_url', value })),
);
const updateMutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: invalidUpdateValue.map((v): Mutation => ({ kind: 'set', ...v })) },
  { weight: 2, arbitrary: unknownMember([...UPDATE_KEYS, 'base_url']).map(([key, value]): Mutation => ({ kind: 'unknown', key, value })) },
  { weight: 1, arbitrary: invalidUpdateValue.map((v): Mutation => ({ kind: 'dup', ...v })) },
);

/** Text-level damage to a valid body; every result is invalid JSON or not an object. */
const brokenText = (valid: fc.Arbitrary<string>) =>
  fc.oneof(
    fc.tuple(valid, fc.nat()).map(([t, k]) => t.slice(0, k % t.length)), // truncated (possibly empty)
    fc.tuple(valid, fc.constantFrom('}', ',', 'x', '{', '"', ']', 'null', '\u0000', '/*', '//', ':')).map(([t, g]) => t + g),
    valid.map((t) => `[${t}]`),
    valid.map((t) => j(t)),
    valid.map((t) => t.replace(/\}$/, ',}')),
    valid.filter((t) => t.includes('"')).map((t) => t.replace(/"/g, "'")),
    valid.map((t) => t.replace(/^\{/, '{{')),
    valid.map((t) => `${t}${t}`),
  );

const isCreateCandidate = (v: unknown) => isPlainObject(v) && 'name' in v && 'base_url' in v;
const isUpdateCandidate = (v: unknown) => isPlainObject(v) && Object.keys(v).every((k) => UPDATE_KEYS.includes(k));
/** Short arbitrary text that is not the JSON of a value `isCandidate` accepts (mostly not JSON at all). */
const shortTextNot = (isCandidate: (v: unknown) => boolean) =>
  fc.string({ maxLength: 40 }).filter((s) => {
    try {
      return !isCandidate(JSON.parse(s));
    } catch {
      return true;
    }
  });

const invalidCreateBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(validCreateEntries, fc.array(createMutation, { minLength: 1, maxLength: 3 })).map(([e, m]) => objectText(applyMutations(e, m))) },
  { weight: 2, arbitrary: anyJson.filter((v) => !isCreateCandidate(v)).map(j) },
  { weight: 2, arbitrary: brokenText(validCreateEntries.map(objectText)) },
  { weight: 1, arbitrary: shortTextNot(isCreateCandidate) },
);
const invalidUpdateBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(validUpdateEntries, fc.array(updateMutation, { minLength: 1, maxLength: 3 })).map(([e, m]) => objectText(applyMutations(e, m))) },
  { weight: 2, arbitrary: anyJson.filter((v) => !isUpdateCandidate(v)).map(j) },
  { weight: 2, arbitrary: brokenText(validUpdateEntries.filter((e) => e.length > 0).map(objectText)) },
  { weight: 1, arbitrary: shortTextNot(isUpdateCandidate) },
);
/** Content types the router reads as JSON. */
const jsonContentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/vnd.llmlb+json', 'application/merge-patch+json');
/** Content types that are not JSON (or no header at all: null). */
const nonJsonContentType = fc.oneof(
  fc.constantFrom(null, '', 'text/plain', 'text/json', 'text/html', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonp', 'application/json-seq', 'application/javascript', 'application/octet-stream', '*/*', 'application', 'json', 'application/ json', 'application/jsonx', 'application/x-json', 'text/plain; charset=application/json'),
  fc.stringMatching(/^[a-z]{1,10}\/[a-z0-9.+-]{1,15}$/).filter((t) => !/json/i.test(t)),
);

/** A raw path segment that is not the id of any endpoint (no `/`, `?` or `#` of its own). */
const badId = fc.oneof(
  fc.constantFrom(
    '..', '.', '...', '%2e%2e', '%2E', '%00', '%2F', '%2f..%2f', '%5C', '%', '%ZZ', '%E0%A4%A', '%C0%AF', '%FF', '%u002e',
    `${ID_A}%00`, `${ID_A}%2F`, `${ID_A}%20`, `${ID_A}x`, `${ID_A}.`, `%20${ID_A}`, `${ID_A}%0A`, `${ID_A};`, `${ID_A}%3F`,
    'null', 'undefined', '0', '-1', 'NaN', '[object%20Object]', '*', '%2A', '__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString',
    '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz', '%7B%7D', '%24where',
  ),
  fc.uuid(),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }).map(encodeURIComponent),
  fc.constantFrom(...SQLISH).map(encodeURIComponent),
  fc.integer({ min: 37, max: 8000 }).map((n) => 'a'.repeat(n)),
  fc.integer({ min: 37, max: 2000 }).map((n) => '0'.repeat(n)),
);

const validCreateText = (n: number) => j({ name: `fresh-${n}`, base_url: `http://10.99.0.${n % 250}:8${n % 1000}` });

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('admin API fuzzing: invalid input is a documented 4xx and changes nothing', () => {
  it('POST /v0/endpoints with invalid bodies', async () => {
    await fc.assert(
      fc.asyncProperty(invalidCreateBody, jsonContentType, fc.boolean(), async (body, contentType, chunked) => {
        const secrets = [...body.matchAll(/"api_key":"([\x21-\x7e]{8,64})"/g)].map((m) => m[1]!);
        await expectRejected({ method: 'POST', path: '/v0/endpoints', body, contentType, chunked }, [400, 409, 413], secrets);
      }).afterEach(resetIfChanged),
      params(200),
    );
  });

  it('PUT /v0/endpoints/:id with invalid bodies (on an existing endpoint)', async () => {
    await fc.assert(
      fc.asyncProperty(invalidUpdateBody, jsonContentType, fc.boolean(), async (body, contentType, chunked) => {
        const secrets = [...body.matchAll(/"api_key":"([\x21-\x7e]{8,64})"/g)].map((m) => m[1]!);
        await expectRejected({ method: 'PUT', path: `/v0/endpoints/${ID_A}`, body, contentType, chunked }, [400, 409, 413], secrets);
      }).afterEach(resetIfChanged),
      params(200),
    );
  });

  it('bodies over 64 KiB are a 413, even when their content is valid', async () => {
    const padded = fc
      .tuple(
        fc.oneof(validCreateEntries.map((e) => ({ path: '/v0/endpoints', method: 'POST', text: objectText(e) })), validUpdateEntries.map((e) => ({ path: `/v0/endpoints/${ID_A}`, method: 'PUT', text: objectText(e) }))),
        fc.integer({ min: ADMIN_BODY_LIMIT + 1, max: 100_000 }),
        fc.constantFrom(' ', '\n', '\t', '\r\n'),
        fc.boolean(),
      )
      .map(([{ path, method, text }, size, pad, chunked]) => {
        const padding = pad.repeat(Math.ceil(Math.max(0, size - Buffer.byteLength(text)) / pad.length));
        return { path, method, body: `{${padding}${text.slice(1)}`, chunked };
      });
    await fc.assert(
      fc.asyncProperty(padded, async ({ path, method, body, chunked }) => {
        expect(Buffer.byteLength(body)).toBeGreaterThan(ADMIN_BODY_LIMIT);
        await expectRejected({ method, path, body, chunked }, [413]);
      }).afterEach(resetIfChanged),
      params(60),
    );
  });

  it('non-JSON content types are a 415, even with a valid body', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(nonJsonContentType, fc.boolean(), fc.boolean(), async (contentType, isCreate, chunked) => {
        n++;
        const req: Req = isCreate
          ? { method: 'POST', path: '/v0/endpoints', body: validCreateText(n), contentType, chunked }
          : { method: 'PUT', path: `/v0/endpoints/${ID_A}`, body: j({ name: `renamed-${n}`, notes: 'x' }), contentType, chunked };
        await expectRejected(req, [415]);
      }).afterEach(resetIfChanged),
      params(100),
    );
  });

  it('ids that are not an existing endpoint are a 404 on every :id route', async () => {
    const route = fc.constantFrom(
      { method: 'GET', suffix: '' },
      { method: 'PUT', suffix: '' },
      { method: 'DELETE', suffix: '' },
      { method: 'POST', suffix: '/test' },
      { method: 'POST', suffix: '/sync' },
    );
    await fc.assert(
      fc.asyncProperty(badId, route, async (id, { method, suffix }) => {
        const body = method === 'PUT' ? j({ notes: 'should not be written' }) : undefined;
        await expectRejected({ method, path: `/v0/endpoints/${id}${suffix}`, body }, [400, 404]);
      }).afterEach(resetIfChanged),
      params(200),
    );
  });

  it('unknown routes are a 404 and wrong methods a 405 with Allow', async () => {
    const allowed: Record<string, string[]> = {
      '/v0/endpoints': ['GET', 'POST'],
      [`/v0/endpoints/${ID_A}`]: ['GET', 'PUT', 'DELETE'],
      [`/v0/endpoints/${ID_A}/test`]: ['POST'],
      [`/v0/endpoints/${ID_A}/sync`]: ['POST'],
    };
    const paths = [
      ...Object.keys(allowed),
      '/v0', '/v0/', '/v0/endpoint', '/v0/ENDPOINTS', '/v0/endpoints.json', `/v0/endpoints/${ID_A}/models`, `/v0/endpoints/${ID_A}/test/x`,
      `/v0/endpoints/${ID_A}/TEST`, '/v0/endpoints%2F', `/v0/endpoints%2F${ID_A}`, '/v0/%2e%2e/v0/endpoints', '/v0/health', '/v0/endpoints/x/y/z/w',
    ];
    const combo = fc
      .tuple(fc.constantFrom(...paths), fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE'), fc.boolean())
      .filter(([path, method]) => !(allowed[path]?.includes(method) ?? false));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(combo, async ([path, method, withBody]) => {
        n++;
        const body = withBody && ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) ? validCreateText(n) : undefined;
        const res = await expectRejected({ method, path, body }, allowed[path] ? [405] : [404]);
        if (res.status === 405) {
          // Allow names every method of the route (HEAD may ride along with GET), never the one refused.
          const allow = String(res.headers.allow).split(/,\s*/);
          const route = allowed[path]!;
          expect(allow).toEqual(expect.arrayContaining(route));
          expect(allow).not.toContain(method);
          for (const m of allow) expect([...route, ...(route.includes('GET') ? ['HEAD'] : [])]).toContain(m);
        }
      }).afterEach(resetIfChanged),
      params(100),
    );
  });

  it('GET /v0/endpoints?… with junk filters is a 400 (and valid filters a 200)', async () => {
    const pair = fc.tuple(
      fc.oneof(fc.constant('status'), fc.constantFrom('Status', 'STATUS', 'status[]', 'status ', ' status', '__proto__', 'constructor', 'toString', 'limit', 'offset', 'q', 'name'), fc.string({ maxLength: 12 })),
      fc.oneof(fc.constantFrom(...STATUSES), fc.constantFrom('ONLINE', 'Online', ' online', 'online ', 'online\u0000', 'all', '*', '', 'null', '1', "' OR 1=1 --", 'pending,online', 'online;'), fc.string({ maxLength: 12 })),
    );
    const query = fc.oneof(
      fc.array(pair, { minLength: 1, maxLength: 4 }).map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')),
      fc.string({ unit: fc.constantFrom(...range(0x21, 0x7e).filter((c) => c !== '#')), maxLength: 40 }),
      fc.constantFrom('status', 'status=', '=online', '&status=online&', 'status=on%6Cine', 'status=online%', 'status=%ZZ', 'status=online&status=online', 'status=+online', '__proto__=online', '__proto__[status]=online'),
    );
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const pairs = [...new URLSearchParams(q)];
        const valid = pairs.length === 0 || (pairs.length === 1 && pairs[0]![0] === 'status' && (STATUSES as readonly string[]).includes(pairs[0]![1]));
        const req: Req = { method: 'GET', path: `/v0/endpoints?${q}` };
        if (!valid) {
          await expectRejected(req, [400]);
          return;
        }
        const res = await send(req);
        expect(res.status, `${req.path} → ${res.text}`).toBe(200);
        const body = JSON.parse(res.text) as { total: number };
        // A, B and the seeded node, none checked (the checker is off).
        expect(body.total).toBe(pairs.length === 0 || pairs[0]![1] === 'pending' ? 3 : 0);
        await expectUnchanged();
      }).afterEach(resetIfChanged),
      params(200),
    );
  });

  it('unauthenticated callers get a 401 and wrong roles a 403, whatever they send', async () => {
    const keys = [ADMIN_KEY, VIEWER_KEY, CLIENT_KEY];
    const badAuth = fc.oneof(
      fc.constantFrom(
        null, '', 'Bearer', 'Bearer ', 'Basic ' + Buffer.from(`admin:${ADMIN_KEY}`).toString('base64'), `Token ${ADMIN_KEY.slice(1)}`,
        ADMIN_KEY.slice(0, -1), `Bearer ${ADMIN_KEY.toUpperCase()}`, `Bearer ${ADMIN_KEY.slice(0, -1)}`, `Bearer ${SECRET}`, `Bearer\t${ADMIN_KEY.slice(2)}`,
        `Bearer ${ADMIN_KEY.replace('admin', 'root')}`, 'Bearer null', 'Bearer undefined', "Bearer ' OR '1'='1", 'Bearer __proto__',
      ),
      fc.string({ unit: printableAscii, maxLength: 120 }).map((s) => `Bearer ${s}`),
      fc.string({ unit: printableAscii, maxLength: 120 }),
    ).filter((h) => h === null || !keys.some((k) => h.includes(k)));
    const target = fc.constantFrom(
      { method: 'GET', path: '/v0/endpoints' },
      { method: 'POST', path: '/v0/endpoints', create: true },
      { method: 'GET', path: `/v0/endpoints/${ID_A}` },
      { method: 'PUT', path: `/v0/endpoints/${ID_A}`, update: true },
      { method: 'DELETE', path: `/v0/endpoints/${ID_A}` },
      { method: 'POST', path: `/v0/endpoints/${ID_A}/test` },
      { method: 'POST', path: `/v0/endpoints/${ID_A}/sync` },
      { method: 'PATCH', path: '/v0/endpoints' },
      { method: 'GET', path: '/v0/nowhere' },
      { method: 'DELETE', path: '/v0/endpoints/..' },
    );
    const who = fc.oneof(
      { weight: 4, arbitrary: badAuth.map((auth) => ({ auth, expected: 401 })) },
      { weight: 1, arbitrary: fc.constant({ auth: `Bearer ${VIEWER_KEY}`, expected: 403 }) },
      { weight: 1, arbitrary: fc.constant({ auth: `bearer   ${CLIENT_KEY}  `, expected: 403 }) },
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(target, who, async (t, { auth, expected }) => {
        n++;
        const body = 'create' in t ? validCreateText(n) : 'update' in t ? j({ name: `hijacked-${n}` }) : undefined;
        // A viewer may GET: those are not rejections.
        if (expected === 403 && auth?.includes(VIEWER_KEY) && t.method === 'GET') return;
        await expectRejected({ method: t.method, path: t.path, body, auth }, [expected]);
      }).afterEach(resetIfChanged),
      params(200),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Runtime keys (/v0/keys)
// ---------------------------------------------------------------------------------------------

const KEY_CREATE_KEYS = ['name', 'role', 'enabled', 'one_use', 'expires_at', 'limits'];
const KEY_UPDATE_KEYS = ['name', 'role', 'enabled', 'expires_at', 'limits'];
const LIMIT_KEYS = ['requests_per_minute', 'max_concurrency', 'models'];
const FUTURE = '2099-01-01T00:00:00.000Z';

const validLimitsText = fc
  .record(
    {
      requests_per_minute: fc.option(fc.integer({ min: 1, max: 1_000_000 })),
      max_concurrency: fc.option(fc.integer({ min: 1, max: 100_000 })),
      models: fc.option(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 4 })),
    },
    { requiredKeys: [] },
  )
  .map(j);
const validKeyEntries = (required: string[]) =>
  fc
    .record(
      { name: validName.map(j), role: fc.constantFrom('admin', 'viewer', 'client').map(j), enabled: fc.boolean().map(j), expires_at: fc.constantFrom(j(FUTURE), 'null'), limits: validLimitsText },
      { requiredKeys: required as never[] },
    )
    .map((r) => Object.entries(r) as Entry[]);

/** A limits object that is never valid. */
const invalidLimits = fc.oneof(
  anyJson.filter((v) => !isPlainObject(v)).map(j),
  fc.tuple(fc.constantFrom('requests_per_minute', 'max_concurrency'), invalidInt(1, 100_000).filter((t) => t !== 'null')).map(([k, v]) => `{${j(k)}:${v}}`),
  fc
    .oneof(
      anyJson.filter((v) => !Array.isArray(v) && v !== null).map(j),
      fc.constantFrom('[]', '[""]', '["a","a"]', '[1]', '[null]', '[["m"]]'),
      bigString(513, 2000).map((m) => j([m])),
    )
    .map((v) => `{"models":${v}}`),
  unknownMember(LIMIT_KEYS).map(([k, v]) => objectText([[k, v]])),
);
/** Every way a key body's field can be wrong, as raw JSON values. */
const invalidKeyValue = (forCreate: boolean) =>
  fc.oneof(
    invalidName.map((value) => ({ key: 'name', value })),
    fc.oneof(nonString.map(j), fc.constantFrom('root', 'Admin', 'public', '', ' admin').map(j)).map((value) => ({ key: 'role', value })),
    anyJson.filter((v) => typeof v !== 'boolean').map((value) => ({ key: 'enabled', value: j(value) })),
    fc
      .oneof(nonStringNonNull.map(j), fc.constantFrom('tomorrow', '2020-01-01T00:00:00.000Z', '2099-13-01T00:00:00Z', '2099-01-01', '').map(j))
      .filter((v) => forCreate || v !== j('2020-01-01T00:00:00.000Z'))
      .map((value) => ({ key: 'expires_at', value })),
    invalidLimits.map((value) => ({ key: 'limits', value })),
    // Only node keys may be one-use; no other role is generated, and updates cannot set it at all.
    fc.oneof(anyJson.filter((v) => typeof v !== 'boolean').map(j), fc.constant('true')).map((value) => ({ key: 'one_use', value })),
  );
const keyMutation = (forCreate: boolean, known: readonly string[]): fc.Arbitrary<Mutation> =>
  fc.oneof(
    { weight: 4, arbitrary: invalidKeyValue(forCreate).map((v): Mutation => ({ kind: 'set', ...v })) },
    { weight: 2, arbitrary: unknownMember(known).map(([key, value]): Mutation => ({ kind: 'unknown', key, value })) },
    { weight: 1, arbitrary: invalidKeyValue(forCreate).map((v): Mutation => ({ kind: 'dup', ...v })) },
  );
const invalidKeyBody = (forCreate: boolean): fc.Arbitrary<string> => {
  const valid = validKeyEntries(forCreate ? ['name', 'role'] : []);
  const isCandidate = (v: unknown) => isPlainObject(v) && (forCreate ? 'name' in v && 'role' in v : Object.keys(v).length > 0);
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(valid, fc.array(keyMutation(forCreate, forCreate ? KEY_CREATE_KEYS : KEY_UPDATE_KEYS), { minLength: 1, maxLength: 3 })).map(([e, m]) => objectText(applyMutations(e, m))) },
    { weight: 1, arbitrary: forCreate ? fc.constant('{"name":"x"}') : fc.constant('{}') },
    { weight: 2, arbitrary: anyJson.filter((v) => !isCandidate(v)).map(j) },
    { weight: 2, arbitrary: brokenText(valid.filter((e) => e.length > 0).map(objectText)) },
  );
};

describe('admin API fuzzing: /v0/keys', () => {
  it('POST /v0/keys and PUT /v0/keys/:id with invalid bodies are a 400 and change nothing', async () => {
    const req = fc.oneof(
      fc.tuple(invalidKeyBody(true), fc.boolean()).map(([body, chunked]): Req => ({ method: 'POST', path: '/v0/keys', body, chunked })),
      fc.tuple(invalidKeyBody(false), fc.boolean()).map(([body, chunked]): Req => ({ method: 'PUT', path: `/v0/keys/${ID_K}`, body, chunked })),
    );
    await fc.assert(
      fc.asyncProperty(req, jsonContentType, async (r, contentType) => {
        await expectRejected({ ...r, contentType }, [400, 413]);
      }).afterEach(resetIfChanged),
      params(250),
    );
  });

  it('configured keys are read-only (403), revoked keys final (409), unknown ids a 404, wrong content types a 415', async () => {
    const update = validKeyEntries([]).filter((e) => e.length > 0).map(objectText);
    const req = fc.oneof(
      update.map((body): [Req, number] => [{ method: 'PUT', path: `/v0/keys/${ID_CFG}`, body }, 403]),
      fc.constant<[Req, number]>([{ method: 'DELETE', path: `/v0/keys/${ID_CFG}` }, 403]),
      update.map((body): [Req, number] => [{ method: 'PUT', path: `/v0/keys/${ID_R}`, body }, 409]),
      fc.tuple(badId, fc.constantFrom('GET', 'PUT', 'DELETE', 'GET usage'), update).map(([id, method, body]): [Req, number] =>
        method === 'GET usage' ? [{ method: 'GET', path: `/v0/keys/${id}/usage` }, 404] : [{ method, path: `/v0/keys/${id}`, body: method === 'PUT' ? body : undefined }, 404],
      ),
      fc.tuple(nonJsonContentType, update).map(([contentType, body]): [Req, number] => [{ method: 'PUT', path: `/v0/keys/${ID_K}`, body, contentType }, 415]),
      nonJsonContentType.map((contentType): [Req, number] => [{ method: 'POST', path: '/v0/keys', body: j({ name: 'x', role: 'admin' }), contentType }, 415]),
    );
    await fc.assert(
      fc.asyncProperty(req, async ([r, status]) => {
        // A bad id with a percent sign the host cannot decode may be refused before routing.
        await expectRejected(r, status === 404 ? [400, 404] : [status]);
      }).afterEach(resetIfChanged),
      params(200),
    );
  });

  it('GET /v0/keys/:id/usage with junk queries is a 400', async () => {
    const value = fc.oneof(fc.constantFrom('yesterday', '', '2026-01-01', '2026-13-01T00:00:00Z', '1700000000', 'null', '__proto__'), fc.string({ maxLength: 30 }).filter((t) => Number.isNaN(Date.parse(t)) || !t.includes('T')));
    const query = fc.oneof(
      fc.tuple(fc.constantFrom('from', 'to'), value).map(([k, v]) => `${k}=${encodeURIComponent(v)}`),
      unknownKey(['from', 'to']).filter((k) => k !== '').map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(FUTURE)}`),
      fc.constant(`from=${FUTURE}&from=${FUTURE}`),
      fc.constant(`from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`),
      fc.constant(`from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`),
    );
    await fc.assert(
      fc.asyncProperty(query, fc.constantFrom(ID_K, ID_R, ID_CFG), async (q, id) => {
        await expectRejected({ method: 'GET', path: `/v0/keys/${id}/usage?${q}` }, [400]);
      }).afterEach(resetIfChanged),
      params(100),
    );
  });

  it('only admin keys reach /v0/keys: other roles get a 403, unknown callers a 401', async () => {
    const target = fc.constantFrom<Req>(
      { method: 'GET', path: '/v0/keys' },
      { method: 'POST', path: '/v0/keys', body: j({ name: 'hijack', role: 'admin' }) },
      { method: 'GET', path: `/v0/keys/${ID_K}` },
      { method: 'PUT', path: `/v0/keys/${ID_K}`, body: j({ role: 'admin' }) },
      { method: 'DELETE', path: `/v0/keys/${ID_K}` },
      { method: 'GET', path: `/v0/keys/${ID_K}/usage` },
    );
    const who = fc.oneof(
      fc.constantFrom(`Bearer ${VIEWER_KEY}`, `Bearer ${CLIENT_KEY}`).map((auth) => ({ auth, expected: 403 })),
      fc.constantFrom(null, 'Bearer ', `Bearer ${ADMIN_KEY}x`, 'Bearer llmlb_', `Bearer ${ID_K}`).map((auth) => ({ auth, expected: 401 })),
      fc.string({ unit: printableAscii, maxLength: 60 }).filter((s) => !s.includes(ADMIN_KEY)).map((s) => ({ auth: `Bearer llmlb_${s}`, expected: 401 })),
    );
    await fc.assert(
      fc.asyncProperty(target, who, async (t, { auth, expected }) => {
        await expectRejected({ ...t, auth }, [expected]);
      }).afterEach(resetIfChanged),
      params(100),
    );
  });
});

describe('alias API fuzzing: invalid input is a documented 4xx and changes nothing', () => {
  const ALIAS_KEYS = ['name', 'targets'];
  const aliasPath = `/v0/aliases/${SEED_ALIAS.name}`;
  const validAliasName = fc.stringMatching(/^[a-z0-9][a-z0-9:._-]{0,30}(?:\/[a-z0-9][a-z0-9:._-]{0,20})?$/);
  const validTargets = fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9:._/-]{0,40}$/), { minLength: 1, maxLength: 32 });
  const invalidAliasName = fc.oneof(
    nonString.map(j),
    fc.constantFrom('', ' a', 'a ', '\ta', '/a', 'a/', 'a//b', 'a/./b', '..', 'x/..', '\u2028').map(j),
    fc.constant(j(SEED_ALIAS.name)),
    bigString(513, 5000).map(j),
    fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom(...CONTROL_CHARS), fc.string({ maxLength: 10 })).map(([a, c, b]) => j(`x${a}${c}${b}x`)),
  );
  const invalidTargets = fc.oneof(
    nonString.filter((v) => !Array.isArray(v)).map(j),
    fc.constantFrom('[]', '[""]', '["a","a"]', '[" a"]', '["a "]', '[1]', '[null]', '[["a"]]', '["a\\u0000"]', '[{"model_id":"a"}]'),
    fc.integer({ min: 33, max: 200 }).map((n) => j(Array.from({ length: n }, (_, i) => `t${i}`))),
    bigString(513, 5000).map((t) => j([t])),
  );
  const invalidAliasValue = fc.oneof(
    invalidAliasName.map((value) => ({ key: 'name', value })),
    invalidTargets.map((value) => ({ key: 'targets', value })),
  );
  const aliasMutation: fc.Arbitrary<Mutation> = fc.oneof(
    { weight: 4, arbitrary: invalidAliasValue.map((v): Mutation => ({ kind: 'set', ...v })) },
    { weight: 1, arbitrary: fc.constantFrom(...ALIAS_KEYS).map((key): Mutation => ({ kind: 'drop', key })) },
    { weight: 2, arbitrary: unknownMember(ALIAS_KEYS).map(([key, value]): Mutation => ({ kind: 'unknown', key, value })) },
    { weight: 1, arbitrary: invalidAliasValue.map((v): Mutation => ({ kind: 'dup', ...v })) },
  );
  const validAliasEntries = fc.tuple(validAliasName, validTargets).map(([name, targets]): Entry[] => [['name', j(name)], ['targets', j(targets)]]);
  const isAliasCandidate = (v: unknown) => isPlainObject(v) && 'name' in v && 'targets' in v;
  const invalidAliasBody: fc.Arbitrary<string> = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(validAliasEntries, fc.array(aliasMutation, { minLength: 1, maxLength: 3 })).map(([e, m]) => objectText(applyMutations(e, m))) },
    { weight: 2, arbitrary: anyJson.filter((v) => !isAliasCandidate(v)).map(j) },
    { weight: 2, arbitrary: brokenText(validAliasEntries.map(objectText)) },
  );
  // An update names only the targets: a name (any), no targets, bad targets or unknown members are refused.
  const invalidAliasUpdate: fc.Arbitrary<string> = fc.oneof(
    fc.tuple(validTargets, fc.oneof(anyJson.map(j), validAliasName.map(j))).map(([targets, name]) => objectText([['targets', j(targets)], ['name', name]])),
    invalidTargets.map((value) => objectText([['targets', value]])),
    fc.tuple(validTargets, unknownMember(['targets'])).map(([targets, [key, value]]) => objectText([['targets', j(targets)], [key, value]])),
    anyJson.filter((v) => !(isPlainObject(v) && 'targets' in v)).map(j),
    brokenText(validTargets.map((t) => objectText([['targets', j(t)]]))),
  );

  it('POST /v0/aliases with invalid bodies', async () => {
    await fc.assert(
      fc.asyncProperty(invalidAliasBody, jsonContentType, fc.boolean(), async (body, contentType, chunked) => {
        await expectRejected({ method: 'POST', path: '/v0/aliases', body, contentType, chunked }, [400, 409, 413]);
      }).afterEach(resetIfChanged),
      params(150),
    );
  });

  it('PUT /v0/aliases/:name with invalid bodies (on the existing alias)', async () => {
    await fc.assert(
      fc.asyncProperty(invalidAliasUpdate, fc.boolean(), async (body, chunked) => {
        await expectRejected({ method: 'PUT', path: aliasPath, body, chunked }, [400, 413]);
      }).afterEach(resetIfChanged),
      params(150),
    );
  });

  it('names that are not an alias are a 404 on GET, PUT and DELETE', async () => {
    const badName = fc.oneof(
      fc.constantFrom('seed', 'SEED/alias', 'seed/alias/x', 'seed%2Falias%20', 'seed/alias%00', '%2e%2e', '__proto__', 'constructor', 'toString', 'seed-model:8b'),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((n) => n !== SEED_ALIAS.name).map(encodeURIComponent),
      fc.constantFrom(...SQLISH).map(encodeURIComponent),
      fc.integer({ min: 513, max: 4000 }).map((n) => 'a'.repeat(n)),
    );
    await fc.assert(
      fc.asyncProperty(badName, fc.constantFrom('GET', 'PUT', 'DELETE'), async (name, method) => {
        const body = method === 'PUT' ? j({ targets: ['would-be-written'] }) : undefined;
        await expectRejected({ method, path: `/v0/aliases/${name}`, body }, [404]);
      }).afterEach(resetIfChanged),
      params(150),
    );
  });

  it('viewers and clients cannot write aliases, and unauthenticated callers reach nothing', async () => {
    const who = fc.constantFrom({ auth: `Bearer ${VIEWER_KEY}`, expected: 403 }, { auth: `Bearer ${CLIENT_KEY}`, expected: 403 }, { auth: null, expected: 401 }, { auth: 'Bearer not-a-key-0123456789', expected: 401 });
    const target = fc.constantFrom(
      { method: 'POST', path: '/v0/aliases', body: j({ name: 'hijack', targets: ['x'] }) },
      { method: 'PUT', path: aliasPath, body: j({ targets: ['hijacked'] }) },
      { method: 'DELETE', path: aliasPath, body: undefined },
    );
    await fc.assert(
      fc.asyncProperty(who, target, async ({ auth, expected }, t) => {
        await expectRejected({ ...t, auth }, [expected]);
      }).afterEach(resetIfChanged),
      params(40),
    );
  });
});

describe('admin API fuzzing: exotic but valid input is stored verbatim and removed cleanly', () => {
  it('unicode, emoji, RTL and SQL-ish names; IPv6, upper-case and /v1 URLs', async () => {
    const url = fc.oneof(
      fc.tuple(fc.integer({ min: 1, max: 0xffff }), port).map(([h, p]) => ({ input: `http://[FD00::${h.toString(16).toUpperCase()}]:${p}/v1/`, expected: `http://[fd00::${h.toString(16)}]:${p}` })),
      fc.tuple(label, port).map(([host, p]) => ({ input: ` HTTP://${host.toUpperCase()}.Example.TEST:${p}/llm/v1 `, expected: `http://${host}.example.test:${p}/llm` })),
      fc.tuple(octet, octet, port).map(([a, b, p]) => ({ input: `https://10.${a}.${b}.1:${p}/`, expected: `https://10.${a}.${b}.1:${p}` })),
      fc.tuple(octet, octet).map(([a, b]) => ({ input: `http://10.${a}.${b}.2:80/x/`, expected: `http://10.${a}.${b}.2/x` })),
    );
    // Duplicate keys: a strict parser may refuse them (400); if accepted, the last one must win.
    const duplicate = fc.option(fc.tuple(fc.constantFrom('name', 'notes'), fc.oneof(invalidName, validName.map(j))), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(validName, url, fc.option(validNotes, { nil: undefined }), duplicate, async (name, { input, expected }, notes, dup) => {
        const entries: Entry[] = [];
        if (dup) entries.push([dup[0], dup[1]]);
        entries.push(['name', j(name)], ['base_url', j(input)]);
        if (notes !== undefined) entries.push(['notes', j(notes)]);
        const res = await send({ method: 'POST', path: '/v0/endpoints', body: objectText(entries) });
        if (res.status !== 201 && dup) {
          expectAdminError(res, [400, 413], { method: 'POST', path: '/v0/endpoints' });
          await expectUnchanged();
          return;
        }
        expect(res.status, res.text).toBe(201);
        // With duplicate keys, the last occurrence is the one that counts (never the first).
        const last = (key: string): unknown => {
          const found = entries.filter(([k]) => k === key).pop();
          return found === undefined ? undefined : JSON.parse(found[1]);
        };
        const created = JSON.parse(res.text) as Record<string, unknown>;
        expect(created.name).toBe((last('name') as string).trim());
        expect(created.base_url).toBe(expected);
        expect(created.notes).toBe(last('notes') ?? null);
        expect(created.status).toBe('pending');
        const row = db.prepare('SELECT * FROM endpoints WHERE id = ?').get(created.id) as Record<string, unknown>;
        expect(row).toMatchObject({ name: created.name, base_url: created.base_url, notes: created.notes, status: 'pending' });
        const detail = await llmlb.admin('GET', `/v0/endpoints/${String(created.id)}`);
        expect(detail.body).toMatchObject({ name: created.name, base_url: created.base_url });
        const deleted = await send({ method: 'DELETE', path: `/v0/endpoints/${String(created.id)}` });
        expect(deleted.status).toBe(204);
        // Tables intact, the endpoint gone; the new baseline carries the moved data_version.
        const after = await snapshot();
        expect(after.rows).toEqual(baseline.rows);
        expect(after.list).toEqual(baseline.list);
        baseline = after;
        expectNotPolluted();
      }).afterEach(resetIfChanged),
      params(80),
    );
  });
});

describe('admin API: targeted cases', () => {
  it('prototype-pollution payloads are refused as unknown fields and pollute nothing', async () => {
    const payloads = [
      '{"__proto__":{"polluted":"yes"}}',
      '{"constructor":{"prototype":{"polluted":"yes"}}}',
      `{"name":"p1","base_url":"http://10.1.1.1:1","__proto__":{"isAdmin":true}}`,
      `{"name":"p2","base_url":"http://10.1.1.1:2","constructor":{"prototype":{"isAdmin":true}}}`,
      `{"name":"p3","base_url":"http://10.1.1.1:3","prototype":{"polluted":1}}`,
      `{"name":{"__proto__":{"polluted":"yes"}},"base_url":"http://10.1.1.1:4"}`,
      `{"__proto__":null,"name":"p5","base_url":"http://10.1.1.1:5"}`,
      `{"__proto__":[],"name":"p6","base_url":"http://10.1.1.1:6"}`,
    ];
    for (const body of payloads) {
      const create = await expectRejected({ method: 'POST', path: '/v0/endpoints', body }, [400]);
      expect(JSON.parse(create.text).error.code).toBe('validation_error');
      const update = await expectRejected({ method: 'PUT', path: `/v0/endpoints/${ID_A}`, body }, [400]);
      expect(JSON.parse(update.text).error.code).toBe('validation_error');
    }
  });

  it('SQL-ish input is data: refused where invalid, stored verbatim where valid, tables intact', async () => {
    for (const text of SQLISH) {
      await expectRejected({ method: 'POST', path: '/v0/endpoints', body: j({ name: text, base_url: text }) }, [400]);
      await expectRejected({ method: 'GET', path: `/v0/endpoints/${encodeURIComponent(text)}` }, [404]);
      await expectRejected({ method: 'GET', path: `/v0/endpoints?status=${encodeURIComponent(text)}` }, [400]);
    }
    const created = await llmlb.admin('POST', '/v0/endpoints', { name: SQLISH[0], base_url: 'http://10.2.2.2:1', notes: SQLISH[1] });
    expect(created.status).toBe(201);
    expect(db.prepare('SELECT name, notes FROM endpoints WHERE id = ?').get(created.body.id)).toEqual({ name: SQLISH[0], notes: SQLISH[1] });
    expect(db.prepare('SELECT count(*) AS n FROM endpoints').get()).toEqual({ n: 4 });
  });

  it('bodies that are not valid UTF-8 are refused, not stored with U+FFFD in place of the bytes', async () => {
    // Found while fuzzing: readJsonBody decodes with Buffer#toString('utf8'), which silently
    // replaces invalid sequences, so the stored name differs from what was sent (RFC 8259 §8.1
    // requires UTF-8; SPEC §7 wants bad input refused).
    const invalidSequences = ['\xff', '\xfe\xff', '\xc0\xaf' /* overlong "/" */, '\xed\xa0\x80' /* UTF-16 surrogate */, '\xe2\x82' /* truncated € */];
    for (const [i, bad] of invalidSequences.entries()) {
      const create = Buffer.concat([Buffer.from('{"name":"bad-'), Buffer.from(bad, 'latin1'), Buffer.from(`","base_url":"http://10.3.3.${i}:1"}`)]);
      await expectRejected({ method: 'POST', path: '/v0/endpoints', body: create }, [400]);
      const update = Buffer.concat([Buffer.from('{"notes":"bad-'), Buffer.from(bad, 'latin1'), Buffer.from('"}')]);
      await expectRejected({ method: 'PUT', path: `/v0/endpoints/${ID_A}`, body: update }, [400]);
    }
  });

  it('a filter parameter named like an Object.prototype member is reported as unknown, not as repeated', async () => {
    // Found by the filter property: listFilter() collects query parameters into a `{}` literal and
    // tests `key in filter`, so `constructor`, `toString`, `__proto__`, … look "given more than once".
    for (const key of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      const res = await expectRejected({ method: 'GET', path: `/v0/endpoints?${key}=online` }, [400]);
      const error = JSON.parse(res.text).error as { message: string; details?: { path: string; message: string }[] };
      expect(error.message, `?${key}=online`).not.toMatch(/more than once/);
      expect(error.details?.[0]?.path).toBe(key);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Self-registered nodes: registration, heartbeats, approval and rejection
// ---------------------------------------------------------------------------------------------

const NODE_KEYS = ['name', 'base_url', 'runtime', 'gpus', 'labels'];
/** Every way a registration body can be wrong (checked before the node's server is ever asked). */
const invalidNodeValue = fc.oneof(
  invalidName.map((value) => ({ key: 'name', value })),
  invalidUrl.map((value) => ({ key: 'base_url', value })),
  conflictingUrl.map((value) => ({ key: 'base_url', value })),
  fc.oneof(
    nonString.filter((v) => !(typeof v === 'object' && v !== null && !Array.isArray(v))).map(j),
    fc.constantFrom('tgi', 'OLLAMA', '', 'ollama ').map((type) => j({ type })),
    fc.constant(j({ type: 'vllm', version: '' })),
    fc.constant(j({ type: 'vllm', extra: 1 })),
  ).map((value) => ({ key: 'runtime', value })),
  fc.oneof(
    nonString.filter((v) => !Array.isArray(v)).map(j),
    fc.constantFrom(j([{ model: 'L4' }]), j([{ model: '', memory_mb: 1 }]), j([{ model: 'L4', memory_mb: -1 }]), j([{ model: 'L4', memory_mb: 1.5 }]), j([{ model: 'L4', memory_mb: 1, x: 1 }]), j(['L4'])),
    fc.constant(j(Array.from({ length: 65 }, () => ({ model: 'L4', memory_mb: 1 })))),
  ).map((value) => ({ key: 'gpus', value })),
  fc.oneof(
    fc.constantFrom(j([]), j('zone=a'), j({ 'bad key': 'v' }), j({ '': 'v' }), j({ zone: '' }), j({ zone: 1 }), j({ zone: 'a\u0000b' }), j({ ['k'.repeat(64)]: 'v' })),
    fc.constant(j(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])))),
  ).map((value) => ({ key: 'labels', value })),
);
const nodeMutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: invalidNodeValue.map((v): Mutation => ({ kind: 'set', ...v })) },
  { weight: 1, arbitrary: fc.constantFrom('name', 'base_url').map((key): Mutation => ({ kind: 'drop', key })) },
  { weight: 2, arbitrary: unknownMember(NODE_KEYS).map(([key, value]): Mutation => ({ kind: 'unknown', key, value })) },
  { weight: 1, arbitrary: invalidNodeValue.map((v): Mutation => ({ kind: 'dup', ...v })) },
);
/** A heartbeat body that is never valid. */
const invalidHeartbeat = fc.oneof(
  nonString.filter((v) => !(typeof v === 'object' && v !== null && !Array.isArray(v))).map(j),
  fc.constantFrom(
    j({ active_requests: -1 }), j({ active_requests: 1.5 }), j({ active_requests: '3' }), j({ waiting_requests: 1e9 }),
    j({ gpu_utilization: 1.01 }), j({ gpu_utilization: -0.1 }), j({ gpu_utilization: 'high' }), j({ loaded_models: 'llama' }),
    j({ loaded_models: [''] }), j({ loaded_models: [1] }), j({ status: 'online' }), j({ admin_state: 'enabled' }), '{"__proto__":{"polluted":1}}',
  ),
  unknownMember(['active_requests', 'waiting_requests', 'gpu_utilization', 'loaded_models']).map(([key, value]) => `{${j(key)}:${value}}`),
);
/** Node tokens and headers that are not the seeded node's. */
const wrongNodeToken = fc.oneof(
  fc.constantFrom(NODE_KEY, ADMIN_KEY, `Bearer ${NODE_KEY}`, 'llmlb_node_', `llmlb_node_${'A'.repeat(43)}`, ' ', 'null', '__proto__', 'x'.repeat(600)),
  fc.string({ unit: visibleAscii, minLength: 1, maxLength: 80 }),
);

describe('node routes fuzzing: bad input is a documented 4xx and changes nothing', () => {
  it('POST /v0/nodes with any invalid body is a 400 (or a 409 for an admin\'s base_url), with a node or an admin key', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(nodeMutation, { minLength: 1, maxLength: 3 }), fc.boolean(), async (mutations, asNode) => {
        n++;
        const entries: Entry[] = [['name', j(`node-${n}`)], ['base_url', j(`http://127.0.0.1:9/node-${n}`)]];
        const body = objectText(applyMutations(entries, mutations));
        await expectRejected({ method: 'POST', path: '/v0/nodes', body, auth: asNode ? `Bearer ${NODE_KEY}` : undefined }, [400, 409, 413]);
      }).afterEach(resetIfChanged),
      params(150),
    );
  });

  it('heartbeats with a wrong or missing token are a 401 whatever the body; with the token, a bad body is a 400', async () => {
    await fc.assert(
      fc.asyncProperty(fc.option(wrongNodeToken, { nil: undefined }), fc.oneof(invalidHeartbeat, fc.constant('{}')), async (token, body) => {
        await expectRejected({ method: 'POST', path: '/v0/nodes/heartbeat', body, auth: null, nodeToken: token }, [401]);
        if (body !== '{}') await expectRejected({ method: 'POST', path: '/v0/nodes/heartbeat', body, auth: null, nodeToken: nodeToken }, [400]);
      }).afterEach(resetIfChanged),
      params(150),
    );
  });

  it('a valid heartbeat of the pending node is answered and changes nothing stored', async () => {
    const res = await send({ method: 'POST', path: '/v0/nodes/heartbeat', body: j({ active_requests: 1, gpu_utilization: 0.5, loaded_models: ['m'] }), auth: null, nodeToken });
    expect(JSON.parse(res.text)).toStrictEqual({ endpoint_id: idN, admin_state: 'pending_approval', status: 'pending' });
    const now = await snapshot();
    expect(now.rows).toEqual(baseline.rows);
    expect(now.dataVersion).toEqual(baseline.dataVersion);
  });

  it('approve and reject: unknown ids are a 404, endpoints not pending a 409, other roles a 403', async () => {
    const who = fc.constantFrom(
      { auth: undefined, id: null, allowed: [400, 404] },
      { auth: undefined, id: ID_A, allowed: [409] },
      { auth: `Bearer ${VIEWER_KEY}`, id: ID_N, allowed: [403] },
      { auth: `Bearer ${CLIENT_KEY}`, id: ID_N, allowed: [403] },
      { auth: `Bearer ${NODE_KEY}`, id: ID_N, allowed: [403] },
      { auth: null, id: ID_N, allowed: [401] },
    );
    await fc.assert(
      fc.asyncProperty(who, badId, fc.constantFrom('approve', 'reject'), async ({ auth, id, allowed }, bad, action) => {
        await expectRejected({ method: 'POST', path: `/v0/endpoints/${id ?? bad}/${action}`, auth }, allowed);
      }).afterEach(resetIfChanged),
      params(120),
    );
  });

  it('a node key may call nothing but registration; node routes refuse other methods and roles', async () => {
    const target = fc.constantFrom(
      { method: 'GET', path: '/v0/endpoints' }, { method: 'POST', path: '/v0/endpoints' }, { method: 'GET', path: '/v0/nodes' },
      { method: 'GET', path: `/v0/nodes/${ID_N}` }, { method: 'DELETE', path: `/v0/endpoints/${ID_N}` }, { method: 'PUT', path: `/v0/endpoints/${ID_N}` },
      { method: 'GET', path: '/v0/me' }, { method: 'GET', path: '/v0/stats' }, { method: 'POST', path: `/v0/endpoints/${ID_N}/test` },
    );
    await fc.assert(
      fc.asyncProperty(target, async ({ method, path }) => {
        const body = ['POST', 'PUT'].includes(method) ? j({ name: 'by-node', base_url: 'http://127.0.0.1:9/x' }) : undefined;
        await expectRejected({ method, path, body, auth: `Bearer ${NODE_KEY}` }, [403]);
      }).afterEach(resetIfChanged),
      params(30),
    );
    for (const [method, path, status] of [
      ['GET', '/v0/nodes/heartbeat', 405], ['PUT', '/v0/nodes', 405], ['DELETE', `/v0/nodes/${ID_N}`, 405],
      ['GET', `/v0/endpoints/${ID_N}/approve`, 405], ['GET', '/v0/nodes/not-a-uuid', 404], ['GET', '/v0/nodes/00000000-0000-4000-8000-000000000000', 404],
      ['GET', `/v0/nodes/${ID_A}`, 404], ['GET', '/v0/nodes?admin_state=approved', 400], ['GET', '/v0/nodes?status=online', 400],
    ] as const) {
      await expectRejected({ method, path }, [status]);
    }
    await expectRejected({ method: 'GET', path: '/v0/nodes', auth: `Bearer ${CLIENT_KEY}` }, [403]);
  });
});
