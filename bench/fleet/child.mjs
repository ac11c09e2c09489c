// Child process of bench/fleet.mjs: the simulated fleet and an llmlb router in front of it, in
// one process (the simulation is timer-driven and cheap, and the oracle selector can read the
// simulated servers' state directly). The load generator runs in the parent.
//
// argv[2]: JSON `{ fleet, selector, signals, meanPrompt, meanOutput, oracle, clientKey, maxMs }`.
// With `signals`, the simulated servers publish their load in their engine's formats and every
// endpoint is checked every 10 s of simulated time (the shortest check interval llmlb allows).
// Sends `{ type: 'ready', port, endpoints: { id: name }, probes: { name: latency_ms },
// types: { name: type }, servers: { name: url } }` once every endpoint is online with its model
// synced; answers `{ type: 'stats' }` with the simulated servers' counters; exits with its parent.
import { createServer } from 'node:http';
import * as llmlb from '../../dist/index.js';
import { toNodeHandler } from '../../dist/node.js';
import { exitWithParent, waitOnline } from '../common.mjs';
import { oracleSelector } from './oracle.mjs';
import { SimServer } from './sim-server.mjs';

const config = JSON.parse(process.argv[2]);
/** Seconds between health checks: llmlb's shortest interval. */
const CHECK_SECS = 10;
const { fleet } = config;

/** The selector the run compares: `oracle`, or `<name>Selector()` from the built package. */
function makeSelector(simsById) {
  if (config.selector === 'oracle') {
    return oracleSelector(simsById, { meanPrompt: config.meanPrompt, meanOutput: config.meanOutput, objective: config.oracle });
  }
  const factory = llmlb[`${config.selector}Selector`];
  if (typeof factory !== 'function') throw new Error(`dist/index.js exports no ${config.selector}Selector`);
  return factory();
}

async function main() {
  const sims = await Promise.all(fleet.servers.map((spec) => new SimServer(spec, { ...fleet, publish: config.signals }).listen()));
  const simsById = new Map();
  const router = llmlb.createRouter({
    auth: { keys: [{ key: config.clientKey, role: 'client' }] },
    checker: {},
    selector: makeSelector(simsById),
    // llmlb's suspension after a failed request, on the simulation's accelerated clock.
    proxy: { suspendMs: Math.round(10_000 * fleet.timeScale) },
  });
  await router.start();
  const server = createServer(toNodeHandler(router));
  server.keepAliveTimeout = 120_000;
  exitWithParent(config.maxMs, () => sims.forEach((s) => s.close()), server);
  for (const sim of sims) {
    const endpoint = await router.endpoints.create({ name: sim.spec.name, base_url: sim.url, health_check_interval_secs: CHECK_SECS });
    simsById.set(endpoint.id, sim);
  }
  await waitOnline(router, sims.length);
  // The first check of each endpoint also pays for connection set-up and cold code, which swamps
  // the network delay; two connection tests (public API) re-measure latency_ms on warm connections.
  for (let round = 0; round < 2; round++) {
    for (const id of simsById.keys()) await router.endpoints.test(id);
  }
  // Checks every CHECK_SECS of simulated time (the scheduler's own run every CHECK_SECS of real time).
  const checks = setInterval(() => {
    for (const id of simsById.keys()) router.checker.check(id).catch(() => {});
  }, CHECK_SECS * 1000 * fleet.timeScale);
  checks.unref();
  const { endpoints } = await router.endpoints.list();
  process.on('message', (msg) => {
    if (msg?.type === 'stats') process.send({ type: 'stats', servers: sims.map((s) => s.stats()) });
  });
  server.listen(0, '127.0.0.1', () => {
    process.send({
      type: 'ready',
      port: server.address().port,
      endpoints: Object.fromEntries(endpoints.map((e) => [e.id, e.name])),
      probes: Object.fromEntries(endpoints.map((e) => [e.name, e.latency_ms])),
      types: Object.fromEntries(endpoints.map((e) => [e.name, e.type])),
      servers: Object.fromEntries(sims.map((sim) => [sim.spec.name, sim.url])),
    });
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
