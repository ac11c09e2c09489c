/** The `/v1` OpenAI API contract, run unchanged against every HTTP adapter. */
import { runOpenAiApiContract } from './openai-api.js';
import { expressServerParsersFirst, expressServerPlain, fastifyServer, nodeServer } from './servers.js';

runOpenAiApiContract('node http (toNodeHandler)', nodeServer);
runOpenAiApiContract('express 5 (app.use(llmlb(router)))', expressServerPlain);
runOpenAiApiContract('express 5 with express.json()/urlencoded()/text() before llmlb', expressServerParsersFirst);
runOpenAiApiContract('fastify 5 (llmlbPlugin, prefix /llm)', fastifyServer);
