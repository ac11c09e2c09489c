// The reference floor: a bare pass-through proxy (node:http + undici keep-alive Agent), no auth,
// no routing, no header hygiene beyond hop-by-hop. Usage: node bench/bare-proxy.mjs --upstream URL
import { createServer } from 'node:http';
import { Agent } from 'undici';
import { exitWithParent, parseArgs } from './common.mjs';

const args = parseArgs(process.argv.slice(2));
const origin = new URL(args.upstream).origin;
const agent = new Agent({ keepAliveTimeout: 30_000, pipelining: 1, connections: null });
const HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer']);
const clean = (h) => Object.fromEntries(Object.entries(h).filter(([k]) => !HOP.has(k)));

const server = createServer(async (req, res) => {
  try {
    const up = await agent.request({ origin, path: req.url, method: req.method, headers: clean(req.headers), body: req.method === 'GET' ? null : req });
    res.writeHead(up.statusCode, clean(up.headers));
    up.body.pipe(res);
  } catch {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  }
});
server.keepAliveTimeout = 120_000;
exitWithParent(Number(args['max-ms'] ?? 3_600_000), undefined, server);
server.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: server.address().port, pid: process.pid }));
