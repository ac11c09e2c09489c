import { describe, expect, it } from 'vitest';
import { AliasTable } from '../../src/alias-table.js';
import { isLlmlbError } from '../../src/errors.js';
import type { PassiveHealth } from '../../src/health/outlier.js';
import { LoadBoard, NO_FIGURES } from '../../src/load-signals.js';
import { ModelCandidates } from '../../src/proxy/candidates.js';
import { type ChoiceRequest, EndpointChooser } from '../../src/proxy/choose.js';
import { NO_NEEDS, type RequestNeeds } from '../../src/proxy/request-needs.js';
import { EndpointStats } from '../../src/proxy/stats.js';
import { Registry } from '../../src/registry.js';
import type { EndpointModel, EndpointRecord } from '../../src/schema.js';
import { expectedLatencySelector } from '../../src/select/expected-latency.js';
import { memoryStorage } from '../../src/storage/memory/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { T0, makeEndpointModel, makeEndpointRecord } from '../helpers/records.js';

const MODEL = 'm';

const ALIAS = 'my-model';

/** A chooser over `endpoints`, each serving MODEL as `models` says (by endpoint name); ALIAS stands for MODEL. */
async function chooserOver(endpoints: EndpointRecord[], models: Record<string, Partial<EndpointModel>>) {
  const registry = new Registry();
  registry.load(endpoints, endpoints.map((e) => makeEndpointModel(e.id, MODEL, models[e.name])));
  const aliases = new AliasTable(memoryStorage(), { followRecords: () => undefined });
  await aliases.create({ name: ALIAS, targets: [MODEL], created_at: T0, updated_at: T0, version: 1 });
  const board = new LoadBoard();
  const clock = new FakeClock();
  // Nothing is suspended here: only isSuspended is read by the chooser.
  const passive = { isSuspended: () => false } as unknown as PassiveHealth;
  const candidates = new ModelCandidates(registry, aliases);
  const chooser = new EndpointChooser({ registry, candidates, stats: new EndpointStats(board), passive, selector: expectedLatencySelector(), clock, affinity: null, capShares: () => 1 });
  const choose = (needs: RequestNeeds = NO_NEEDS, model = MODEL) => {
    const request: ChoiceRequest = { model, capability: 'chat', stream: true, needs, session: null, exclude: undefined };
    const choice = chooser.choose(request)!;
    return { name: choice.endpoint.name, reason: choice.reason };
  };
  const idOf = (name: string) => endpoints.find((e) => e.name === name)!.id;
  return { choose, board, clock, idOf };
}

const online = (name: string, type: EndpointRecord['type'] = 'ollama') => makeEndpointRecord({ name, type, status: 'online' });
const needs = (capabilities: string[], promptTokens: number | null = 10, outputTokens = 0): RequestNeeds => ({ capabilities, promptTokens, outputTokens });
const reject = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (isLlmlbError(err)) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'no error';
};

describe('EndpointChooser: what the request needs', () => {
  it('skips a model whose backend says it lacks a capability, only for the capabilities that backend tells', async () => {
    const { choose } = await chooserOver([online('ollama-plain'), online('lmstudio', 'lm-studio'), online('llamacpp', 'llama.cpp')], {
      'ollama-plain': { capabilities: ['chat'], capabilities_source: 'backend' },
      // LM Studio and llama.cpp say nothing of tools: unknown, allowed.
      lmstudio: { capabilities: ['chat'], capabilities_source: 'backend' },
      llamacpp: { capabilities: ['chat'], capabilities_source: 'backend' },
    });
    const picked = new Set(Array.from({ length: 9 }, () => choose(needs(['tools'])).name));
    expect(picked).toEqual(new Set(['lmstudio', 'llamacpp']));
    // Vision is told by all three: none has it.
    expect(reject(() => choose(needs(['vision'])))).toMatch(/^model_not_capable: .*supports vision/);
  });

  it('allows capabilities guessed from the name', async () => {
    const { choose } = await chooserOver([online('guessed')], { guessed: { capabilities: ['chat'], capabilities_source: 'name' } });
    expect(choose(needs(['vision', 'tools'])).name).toBe('guessed');
  });

  it('skips windows too small for the estimate and names the largest when none fits', async () => {
    const { choose } = await chooserOver([online('small'), online('large'), online('unknown')], {
      small: { context_length: 4096 },
      large: { context_length: 16384 },
      unknown: { context_length: null },
    });
    const fits = new Set(Array.from({ length: 6 }, () => choose(needs([], 8000, 1000)).name));
    expect(fits).toEqual(new Set(['large', 'unknown']));
    const { choose: known } = await chooserOver([online('small'), online('large')], { small: { context_length: 4096 }, large: { context_length: 16384 } });
    expect(reject(() => known(needs([], 16000, 500)))).toMatch(/^context_length_exceeded: the request needs about 16500 tokens .* is 16384 tokens$/);
    // Exactly the window fits.
    expect(known(needs([], 15384, 1000)).name).toBe('large');
    // An alias's endpoints are judged by the target each would be sent.
    expect(known(needs([], 8000, 1000), ALIAS).name).toBe('large');
    expect(reject(() => known(needs([], 16000, 500), ALIAS))).toMatch(/^context_length_exceeded: .*serving model "my-model" is 16384 tokens$/);
  });
});

describe('EndpointChooser: loaded models first', () => {
  it('prefers the endpoint with the model loaded while it is not queueing, by figures that are not too old', async () => {
    const { choose, board, clock, idOf } = await chooserOver([online('warm'), online('cold'), online('silent')], {
      warm: { loaded: true },
      cold: { loaded: false },
      silent: { loaded: null },
    });
    // The loaded one and the one that does not say; never the one that would load the model.
    const first = Array.from({ length: 6 }, () => choose().name);
    expect(new Set(first)).toEqual(new Set(['warm', 'silent']));
    // Its server says requests wait in it: every endpoint of the tier is offered again.
    board.report(idOf('warm'), { ...NO_FIGURES, running: 4, waiting: 2 }, 'check', clock.now());
    const queueing = Array.from({ length: 6 }, () => choose().name);
    expect(queueing).toContain('cold');
    // Figures older than three check intervals (30 s each here) no longer count.
    await clock.advance(91_000);
    expect(new Set(Array.from({ length: 6 }, () => choose().name))).toEqual(new Set(['warm', 'silent']));
  });

  it('says `loaded` when the preference leaves one endpoint', async () => {
    const { choose } = await chooserOver([online('warm'), online('cold')], { warm: { loaded: true }, cold: { loaded: false } });
    expect(choose()).toEqual({ name: 'warm', reason: 'loaded' });
    const { choose: neutral } = await chooserOver([online('a')], { a: { loaded: null } });
    expect(neutral()).toEqual({ name: 'a', reason: 'only-candidate' });
  });
});
