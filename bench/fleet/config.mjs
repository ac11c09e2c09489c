// The simulated fleet, the request-size model and the load scenarios of bench/fleet.mjs, and the
// fleet's capacity estimate. Every duration here is in real-world milliseconds; the simulation
// runs them `timeScale` times as long (0.2: five times faster than real time).
import { readFileSync } from 'node:fs';
import { seededRandom } from '../common.mjs';

/** The default fleet: one far big GPU, two mid GPUs, one slow CPU box next to the router. */
export const DEFAULT_FLEET = {
  model: 'llama3.1:8b',
  timeScale: 0.2,
  servers: [
    // H100-class vLLM, --max-num-seqs 32, in another region.
    { name: 'gpu-big', engine: 'vllm', slots: 32, maxQueue: null, decodeMs: 10, decodeMsPerSeq: 0.4, prefillMsPerToken: 0.1, rttMs: 60 },
    // L4/A10-class vLLM, --max-num-seqs 16.
    { name: 'gpu-mid-1', engine: 'vllm', slots: 16, maxQueue: null, decodeMs: 25, decodeMsPerSeq: 0.8, prefillMsPerToken: 0.4, rttMs: 15 },
    // Consumer GPU, llama.cpp server -np 8.
    { name: 'gpu-mid-2', engine: 'llamacpp', slots: 8, maxQueue: null, decodeMs: 22, decodeMsPerSeq: 1.5, prefillMsPerToken: 0.5, rttMs: 25 },
    // CPU-only Ollama on the router's own host: OLLAMA_NUM_PARALLEL=2, OLLAMA_MAX_QUEUE=512 (its
    // default; bench/fleet/bounded-queue.json sets 8, so a full queue answers 503).
    { name: 'cpu-local', engine: 'ollama', slots: 2, maxQueue: 512, decodeMs: 120, decodeMsPerSeq: 60, prefillMsPerToken: 4, rttMs: 0.5 },
  ],
};

/** Prompt and output lengths (tokens, log-normal, capped) and the share of streaming requests. */
export const DEFAULT_LOAD = {
  prompt: { median: 300, sigma: 1.0, min: 8, max: 4000 },
  output: { median: 80, sigma: 0.7, min: 1, max: 512 },
  streamShare: 0.8,
};

/**
 * The scenarios: offered load as a fraction of the estimated capacity, and how long arrivals
 * last. `bypass`: other clients also send load straight to the fleet's largest server, a
 * fraction of its own capacity, not through llmlb; such a scenario runs only `selectors` (and
 * the oracle), each with and without the servers publishing their load.
 */
export const SCENARIOS = [
  { key: 'load50', label: '50 %', factor: 0.5, seconds: 6 },
  { key: 'load80', label: '80 %', factor: 0.8, seconds: 6 },
  { key: 'burst', label: 'burst 150 %', factor: 1.5, seconds: 2 },
  { key: 'bypass', label: '40 % + bypass', factor: 0.4, seconds: 6, bypass: { factor: 0.65 }, selectors: ['expectedLatency'] },
];

const ENGINES = new Set(['vllm', 'ollama', 'llamacpp']);
const SERVER_NUMBERS = ['slots', 'decodeMs', 'decodeMsPerSeq', 'prefillMsPerToken', 'rttMs'];

/** Reads a fleet JSON file (`{ model?, timeScale?, servers: [...], load? }`) over the defaults. */
export function loadFleet(file) {
  const fleet = { ...DEFAULT_FLEET, load: DEFAULT_LOAD };
  if (file) {
    const json = JSON.parse(readFileSync(file, 'utf8'));
    Object.assign(fleet, json);
    fleet.load = { ...DEFAULT_LOAD, ...json.load };
  }
  validateFleet(fleet);
  return fleet;
}

/** Throws a readable error for a fleet that the simulation cannot run. */
export function validateFleet(fleet) {
  if (!(fleet.timeScale > 0 && fleet.timeScale <= 10)) throw new Error('fleet: timeScale must be in (0, 10]');
  if (!Array.isArray(fleet.servers) || fleet.servers.length === 0) throw new Error('fleet: servers must be a non-empty list');
  const names = new Set();
  for (const s of fleet.servers) {
    if (typeof s.name !== 'string' || !/^[a-z0-9-]{1,40}$/.test(s.name)) throw new Error(`fleet: bad server name ${JSON.stringify(s.name)}`);
    if (names.has(s.name)) throw new Error(`fleet: duplicate server name ${s.name}`);
    names.add(s.name);
    if (!ENGINES.has(s.engine)) throw new Error(`fleet: ${s.name}: engine must be one of ${[...ENGINES].join(', ')}`);
    for (const key of SERVER_NUMBERS) {
      if (!(Number.isFinite(s[key]) && s[key] >= 0)) throw new Error(`fleet: ${s.name}: ${key} must be a number >= 0`);
    }
    if (!Number.isInteger(s.slots) || s.slots < 1) throw new Error(`fleet: ${s.name}: slots must be an integer >= 1`);
    if (s.maxQueue !== null && s.maxQueue !== undefined && !(Number.isInteger(s.maxQueue) && s.maxQueue >= 0)) {
      throw new Error(`fleet: ${s.name}: maxQueue must be null (unbounded) or an integer >= 0`);
    }
  }
}

/** Real-world ms per decode step with `batch` sequences in the batch. */
export function stepMs(server, batch) {
  return server.decodeMs + server.decodeMsPerSeq * Math.max(0, batch - 1);
}

/** A log-normal draw (Box–Muller), rounded and clamped to [min, max]. */
export function drawLength(random, { median, sigma, min, max }) {
  const u = 1 - random();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  return Math.min(max, Math.max(min, Math.round(median * Math.exp(sigma * z))));
}

/** Means of the prompt and output distributions, from 20 000 seeded draws. */
export function meanLengths(load) {
  const random = seededRandom(12345);
  let prompt = 0;
  let output = 0;
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    prompt += drawLength(random, load.prompt);
    output += drawLength(random, load.output);
  }
  return { prompt: prompt / n, output: output / n };
}

/**
 * Requests per second the fleet completes when every slot is busy: a slot holds a request for
 * its prefill plus one decode step per further output token, at the full-batch step time, so
 * server i serves slots_i / (E[prompt]·prefill_i + (E[output] − 1)·step_i(slots_i)) requests per
 * real second, divided by `timeScale` in the simulation.
 */
export function estimateCapacity(fleet, means) {
  const servers = fleet.servers.map((s) => {
    const step = stepMs(s, s.slots);
    const serviceMs = means.prompt * s.prefillMsPerToken + Math.max(0, means.output - 1) * step;
    const rps = (s.slots * 1000) / (serviceMs * fleet.timeScale);
    return { name: s.name, step, serviceMs, rps };
  });
  const rps = servers.reduce((sum, s) => sum + s.rps, 0);
  return { servers, rps, tokensPerSec: rps * means.output };
}

/**
 * The scenarios to run (by key), each with its arrival rate and request count; a bypass
 * scenario's direct load (`bypass: { server, rate, count }`) goes to the largest server.
 */
export function planScenarios(keys, capacity, { requests, duration }) {
  const chosen = SCENARIOS.filter((s) => keys.includes(s.key));
  if (chosen.length === 0) throw new Error(`no scenario among ${keys.join(', ')} (known: ${SCENARIOS.map((s) => s.key).join(', ')})`);
  const largest = capacity.servers.reduce((a, b) => (b.rps > a.rps ? b : a));
  return chosen.map((s) => {
    const rate = capacity.rps * s.factor;
    const seconds = duration ? (s.key === 'burst' ? duration / 3 : duration) : s.seconds;
    const count = Math.max(10, Math.round(requests ?? rate * seconds));
    const planned = { ...s, rate, count, seconds: count / rate };
    if (!s.bypass) return planned;
    const bypassRate = largest.rps * s.bypass.factor;
    return { ...planned, bypass: { server: largest.name, rate: bypassRate, count: Math.round(bypassRate * planned.seconds) } };
  });
}
