// llmlb behind node:http for the proxy benchmark: key auth, health checker on, one endpoint
// registered programmatically and waited for until it is online with its model synced.
// Usage: node bench/llmlb-server.mjs --upstream URL --client-key K --admin-key K [--model M]
//        [--db FILE|postgres://…]   (default: memory storage)
import { createServer } from 'node:http';
import { createRouter, postgresStorage, sqliteStorage } from '../dist/index.js';
import { toNodeHandler } from '../dist/node.js';
import { exitWithParent, parseArgs } from './common.mjs';

const args = parseArgs(process.argv.slice(2));
const model = args.model ?? 'bench-model';
const db = args.db === undefined ? undefined : String(args.db);
const storage =
  db === undefined ? undefined : /^postgres(ql)?:\/\//.test(db) ? postgresStorage({ connectionString: db }) : sqliteStorage({ filename: db });
const router = createRouter({
  storage,
  auth: {
    keys: [
      { key: args['client-key'], role: 'client' },
      { key: args['admin-key'], role: 'admin' },
    ],
  },
  checker: {},
});
await router.start();
const server = createServer(toNodeHandler(router));
server.keepAliveTimeout = 120_000;
exitWithParent(Number(args['max-ms'] ?? 3_600_000), undefined, server);

await router.endpoints.create({ name: 'bench-upstream', base_url: args.upstream });
// The first check runs right after create; wait for it (bounded) until the model is routable.
const deadline = Date.now() + 10_000;
for (;;) {
  await router.checker.idle();
  try {
    router.select(model);
    break;
  } catch (err) {
    if (Date.now() > deadline) throw new Error(`endpoint not online with ${model} after 10 s: ${err.message}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
server.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: server.address().port, pid: process.pid }));
