// PostgreSQL benchmark: (1) proxy throughput with PostgreSQL storage against SQLite — routing
// never touches the database, so they should match; (2) the time a change made on one of three
// instances takes to reach the other two (LISTEN/NOTIFY + change feed).
//
//   LLMLB_DATABASE_URL=postgres://…/scratch node bench/postgres.mjs [--duration N] [--changes N]
//
// The database must be a scratch one: the bench empties llmlb's tables first.
// --duration N  seconds of load per storage (default 6), c=32 non-stream.
// --changes N   admin writes timed for propagation (default 100).
import autocannon from 'autocannon';
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createRouter, postgresStorage } from '../dist/index.js';
import { parseArgs, percentile, sortNumbers } from './common.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const args = parseArgs(process.argv.slice(2));
const DB = process.env.LLMLB_DATABASE_URL;
const DURATION = Math.max(1, Number(args.duration ?? 6));
const CHANGES = Math.max(10, Number(args.changes ?? 100));
const [CLIENT_KEY, ADMIN_KEY] = ['bench-client-key-0123456789abcdef', 'bench-admin-key-0123456789abcdef'];
const BODY = JSON.stringify({ model: 'bench-model', messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 });
if (!DB) {
  console.error('set LLMLB_DATABASE_URL to a scratch PostgreSQL database (and run `npm run build` first)');
  process.exit(1);
}

const children = [];
process.on('exit', () => children.forEach((child) => child.kill()));

/** Forks a bench server and resolves with its URL once it says it is ready. */
function start(script, argv) {
  return new Promise((resolve, reject) => {
    const child = fork(here(script), [...argv, '--max-ms', '600000'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    child.once('exit', (code) => reject(new Error(`${script} exited early (code ${code})`)));
    child.on('message', (msg) => msg?.type === 'ready' && resolve({ child, url: `http://127.0.0.1:${msg.port}` }));
  });
}

async function emptyTables() {
  const client = new pg.Client({ connectionString: DB });
  await client.connect();
  await client.query(`do $$ begin if to_regclass('endpoints') is not null then
    truncate endpoints, endpoint_models, endpoint_health_checks, llmlb_changes, llmlb_leases; end if; end $$`);
  await client.end();
}

async function throughput(upstream, label, db) {
  await emptyTables();
  const server = await start('./llmlb-server.mjs', ['--upstream', upstream, '--client-key', CLIENT_KEY, '--admin-key', ADMIN_KEY, '--db', db]);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` };
  const options = { url: `${server.url}/v1/chat/completions`, method: 'POST', headers, body: BODY, connections: 32 };
  await autocannon({ ...options, duration: 1 });
  const result = await autocannon({ ...options, duration: DURATION });
  server.child.kill();
  return { label, rps: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99, errors: result.non2xx + result.errors };
}

async function propagation() {
  await emptyTables();
  const routers = [0, 1, 2].map(() => createRouter({ storage: postgresStorage({ connectionString: DB }), checker: false }));
  for (const router of routers) await router.start();
  const [writer, ...readers] = routers;
  const { id } = await writer.endpoints.create({ name: 'propagation', base_url: 'http://127.0.0.1:9/' });
  const times = [];
  for (let i = 0; i < CHANGES; i++) {
    const notes = `change ${i}`;
    const began = performance.now();
    await writer.endpoints.update(id, { notes });
    const arrived = readers.map(async (reader) => {
      while ((await reader.endpoints.get(id)).notes !== notes) await new Promise((resolve) => setImmediate(resolve));
      return performance.now() - began;
    });
    times.push(Math.max(...(await Promise.all(arrived))));
  }
  for (const router of routers) await router.stop();
  return sortNumbers(times);
}

const upstream = await start('./upstream.mjs', []);
const results = [
  await throughput(upstream.url, 'sqlite', join(mkdtempSync(join(tmpdir(), 'llmlb-bench-')), 'llmlb.db')),
  await throughput(upstream.url, 'postgres', DB),
];
console.log('proxy throughput, c=32 non-stream, %d s each', DURATION);
for (const r of results) console.log(`  ${r.label.padEnd(9)} ${String(r.rps).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  errors ${r.errors}`);
const times = await propagation();
const ms = (p) => percentile(times, p).toFixed(1);
console.log(`change reaching both other instances (${CHANGES} admin writes): p50 ${ms(50)} ms  p95 ${ms(95)} ms  max ${ms(100)} ms`);
process.exit(0);
