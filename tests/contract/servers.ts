/**
 * One factory per HTTP adapter: each mounts a router on a real server on 127.0.0.1 (ephemeral
 * port) and says where llmlb's routes live (`baseUrl`, which includes any mount prefix) and, for
 * host frameworks, where the host app's own route is, to prove that llmlb lets other paths through.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { llmlb } from '../../src/adapters/express.js';
import { llmlbPlugin } from '../../src/adapters/fastify.js';
import { toNodeHandler } from '../../src/adapters/node.js';
import type { Router } from '../../src/router.js';

/** A running server with llmlb mounted. */
export interface ContractServer {
  /** `http://127.0.0.1:<port>` plus the mount prefix, without a trailing slash. */
  baseUrl: string;
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** A route the host app serves itself (outside `/v0` and `/v1`), with its expected body. */
  hostRoute?: { url: string; body: string };
  /** Closes the server and all its connections. */
  close(): Promise<void>;
}

/** Builds a server for a router. */
export type ServerFactory = (router: Router) => Promise<ContractServer>;

/** What the host apps answer on their own `GET /health`. */
export const HOST_HEALTH_BODY = 'host app ok';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeNodeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

/** Plain Node: `http.createServer(toNodeHandler(router))`. */
export const nodeServer: ServerFactory = async (router) => {
  const server = createServer(toNodeHandler(router));
  const origin = await listen(server);
  return { baseUrl: origin, origin, close: () => closeNodeServer(server) };
};

function expressServer(options: { parsersFirst: boolean }): ServerFactory {
  return async (router) => {
    const app = express();
    if (options.parsersFirst) {
      app.use(express.json());
      app.use(express.urlencoded({ extended: false }));
      app.use(express.text());
    }
    app.use(llmlb(router));
    app.get('/health', (_req, res) => {
      res.type('text/plain').send(HOST_HEALTH_BODY);
    });
    const server = createServer(app);
    const origin = await listen(server);
    return {
      baseUrl: origin,
      origin,
      hostRoute: { url: `${origin}/health`, body: HOST_HEALTH_BODY },
      close: () => closeNodeServer(server),
    };
  };
}

/** Express 5: `app.use(llmlb(router))` first, then a host route. */
export const expressServerPlain: ServerFactory = expressServer({ parsersFirst: false });

/**
 * Express 5 with the host's body parsers (`express.json()`, `express.urlencoded()`,
 * `express.text()`) running before llmlb: the admin API gets pre-parsed bodies, and the parsers'
 * rejections.
 */
export const expressServerParsersFirst: ServerFactory = expressServer({ parsersFirst: true });

/** Fastify 5: `app.register(llmlbPlugin, { router, prefix: '/llm' })` plus a host route. */
export const fastifyServer: ServerFactory = async (router) => {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  await app.register(llmlbPlugin, { router, prefix: '/llm' });
  app.get('/health', async (_request, reply) => reply.type('text/plain').send(HOST_HEALTH_BODY));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    baseUrl: `${origin}/llm`,
    origin,
    hostRoute: { url: `${origin}/health`, body: HOST_HEALTH_BODY },
    close: () => app.close(),
  };
};
