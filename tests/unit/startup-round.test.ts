/**
 * The start-up round with many slow endpoints: every check in flight at once, and no
 * `MaxListenersExceededWarning` (each check has its own abort signal; none is shared).
 */
import { afterEach, expect, it } from 'vitest';
import type { FetchLike } from '../../src/health/probe.js';
import { createRouter, type Router } from '../../src/router.js';
import { memoryStorage } from '../../src/storage/memory/index.js';
import { makeEndpointRecord } from '../helpers/records.js';

let router: Router | undefined;
const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);

afterEach(async () => {
  process.off('warning', onWarning);
  await router?.stop();
  router = undefined;
});

it('checks 19 slow endpoints at once without a listener-leak warning, and stop aborts them all', async () => {
  process.on('warning', onWarning);
  const storage = memoryStorage();
  await storage.init();
  for (let i = 0; i < 19; i++) await storage.insertEndpoint(makeEndpointRecord());
  const pending = new Set<AbortSignal>();
  let started!: () => void;
  const allStarted = new Promise<void>((resolve) => (started = resolve));
  // An upstream that never answers: each probe waits until it is aborted.
  const fetch: FetchLike = (_url, init) =>
    new Promise((_resolve, reject) => {
      const signal = init.signal as AbortSignal;
      pending.add(signal);
      if (pending.size === 19) started();
      signal.addEventListener('abort', () => reject(signal.reason));
    });
  router = createRouter({ storage, fetch, checker: { timeoutMs: 60_000 } });
  await router.start();
  await allStarted;
  await router.stop();
  expect([...pending].every((signal) => signal.aborted)).toBe(true);
  await new Promise((resolve) => setImmediate(resolve));
  expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
});
