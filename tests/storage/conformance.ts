/**
 * The storage conformance suite: the same cases for every {@link StorageAdapter}, so adapters
 * are interchangeable. Each adapter's test file calls {@link runStorageConformance}; the cases
 * live in `./conformance/`.
 */
import { afterEach, beforeEach, describe } from 'vitest';
import type { EndpointRecord } from '../../src/schema.js';
import type { StorageAdapter } from '../../src/storage/types.js';
import { makeEndpointRecord } from '../helpers/records.js';
import { aliasCases, staticModelCases } from './conformance/aliases.js';
import { endpointRowCases, endpointWriteCases, insertClashCases, renameClashCases } from './conformance/endpoints.js';
import { feedReadCases, feedWriteCases } from './conformance/feed.js';
import { cascadeCases, checkRecordingCases, historyPageCases } from './conformance/history.js';
import { keyRowCases, keyUsageCases } from './conformance/keys.js';
import { leaseCases } from './conformance/leases.js';
import { copyCases, reopenCases } from './conformance/lifecycle.js';
import { modelListCases, modelSetCases } from './conformance/models.js';
import { nodeRowCases, nodeWriteCases } from './conformance/nodes.js';
import type { Suite } from './conformance/suite.js';

/** Every area of the contract, with the functions that register its cases. */
const AREAS: readonly (readonly [string, readonly ((suite: Suite) => void)[]])[] = [
  ['endpoints', [endpointRowCases, endpointWriteCases]],
  ['uniqueness', [insertClashCases, renameClashCases]],
  ['models', [modelSetCases, modelListCases]],
  ['health checks', [checkRecordingCases, historyPageCases]],
  ['cascades', [cascadeCases]],
  ['change feed', [feedWriteCases, feedReadCases]],
  ['leases', [leaseCases]],
  ['aliases', [aliasCases]],
  ['static model lists', [staticModelCases]],
  ['api keys', [keyRowCases, keyUsageCases]],
  ['nodes', [nodeRowCases, nodeWriteCases]],
  ['isolation of returned and passed-in objects', [copyCases]],
  ['lifecycle', [reopenCases]],
];

/** What an adapter factory returns: a fresh, empty storage, and optionally a way to reopen it. */
export interface ConformanceTarget {
  /** A new, empty, not yet initialised adapter. */
  storage: StorageAdapter;
  /** A new adapter on the same underlying data (for restart persistence); not yet initialised. */
  reopen?: () => Promise<StorageAdapter>;
}

/**
 * Registers the conformance cases for one adapter. `makeStorage` is called before every case and
 * must return a fresh, empty, uninitialised adapter; the suite calls `init()` and `close()`.
 *
 * @example
 * runStorageConformance('memory', async () => ({ storage: memoryStorage() }));
 */
export function runStorageConformance(name: string, makeStorage: () => Promise<ConformanceTarget>): void {
  describe(`storage conformance: ${name}`, () => {
    let target: ConformanceTarget;
    const opened: StorageAdapter[] = [];
    const suite: Suite = {
      get storage() {
        return target.storage;
      },
      get reopen() {
        return target.reopen;
      },
      track(storage) {
        opened.push(storage);
        return storage;
      },
      async inserted(overrides: Partial<EndpointRecord> = {}) {
        const record = makeEndpointRecord(overrides);
        await target.storage.insertEndpoint(record);
        return record;
      },
    };

    beforeEach(async () => {
      target = await makeStorage();
      await suite.track(target.storage).init();
    });

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });

    for (const [area, cases] of AREAS) {
      describe(area, () => {
        for (const register of cases) register(suite);
      });
    }
  });
}
