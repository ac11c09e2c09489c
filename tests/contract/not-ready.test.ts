/** The not-ready contract (503 not_ready before start, while starting, after stop) on every HTTP adapter. */
import { runNotReadyContract } from './not-ready.js';
import { expressServerParsersFirst, expressServerPlain, fastifyServer, nodeServer } from './servers.js';

runNotReadyContract('node http (toNodeHandler)', nodeServer);
runNotReadyContract('express 5 (app.use(llmlb(router)))', expressServerPlain);
runNotReadyContract('express 5 with express.json()/urlencoded()/text() before llmlb', expressServerParsersFirst);
runNotReadyContract('fastify 5 (llmlbPlugin, prefix /llm)', fastifyServer);
