/** The admin API contract, run unchanged against every HTTP adapter. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { describe, expect, it } from 'vitest';
import { llmlb } from '../../src/adapters/express.js';
import { createRouter } from '../../src/router.js';
import { runAdminApiContract } from './admin-api.js';
import { expressServerParsersFirst, expressServerPlain, fastifyServer, nodeServer } from './servers.js';

runAdminApiContract('node http (toNodeHandler)', nodeServer);
runAdminApiContract('express 5 (app.use(llmlb(router)))', expressServerPlain);
runAdminApiContract('express 5 with express.json()/urlencoded()/text() before llmlb', expressServerParsersFirst);
runAdminApiContract('fastify 5 (llmlbPlugin, prefix /llm)', fastifyServer);

describe('express adapter: body-parser rejections outside llmlb paths', () => {
  it('keep the host app’s error handling', async () => {
    const router = createRouter({ auth: { keys: [{ key: 'express-admin-key-0123456789', role: 'admin' }] } });
    await router.start();
    const app = express();
    app.use(express.json());
    app.use(llmlb(router));
    app.post('/host', (_req, res) => {
      res.send('unreachable');
    });
    const seen: unknown[] = [];
    app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      seen.push(err);
      res.status(418).json({ host: 'handled' });
    });
    const server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/host`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"broken":',
      });
      expect(res.status).toBe(418);
      expect(await res.json()).toEqual({ host: 'handled' });
      expect(seen).toHaveLength(1);
      expect((seen[0] as { type?: string }).type).toBe('entity.parse.failed');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await router.stop();
    }
  });
});
