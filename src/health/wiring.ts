/**
 * Puts health checking together for one router: the probe, model sync, `runCheck`, the scheduler
 * and the retention loop, with the public checker as their face.
 */
import type { Clock } from '../clock.js';
import type { SecretBox } from '../crypto.js';
import type { Logger } from '../logger.js';
import type { CapabilityDetector } from '../models/capabilities.js';
import { type ModelSync, modelSync } from '../models/sync.js';
import type { StorageAdapter } from '../storage/types.js';
import type { EndpointStore } from '../store.js';
import type { LoadFigures } from '../load-signals.js';
import type { EndpointType } from '../schema.js';
import { backendProbe } from './backend-probe.js';
import { withStaticModels } from './reachability.js';
import { type CheckDeps, runCheck } from './check.js';
import { HealthChecker, type HealthCheckerOptions, announceCheck, announceError, bindChecker } from './checker.js';
import { type FetchLike, type Probe, type ProbeOptions, type ProbeTarget, probeVersion } from './probe.js';
import { RetentionLoop } from './retention.js';
import { CheckScheduler } from './scheduler.js';

/** What health checking is built from. */
export interface HealthDeps {
  checker: HealthChecker;
  store: EndpointStore;
  storage: StorageAdapter;
  clock: Clock;
  logger: Logger;
  fetch: FetchLike;
  secretBox: SecretBox | null;
  detectCapabilities: CapabilityDetector;
  /** Whether this instance checks the endpoint (the lease holder, with several instances). */
  owns: (endpointId: string) => boolean;
  /** Several instances share the checks (see `SchedulerDeps.keepCadence`). */
  shared: boolean;
  /** Prunes revoked keys (the key module's, for the retention loop). */
  pruneRevokedKeys: (cutoff: string) => Promise<number>;
  /** Receives the load figures each successful check read. */
  load?: (endpointId: string, load: LoadFigures | null) => void;
}

/** The parts a router drives and hands on. */
export interface HealthParts {
  probe: Probe;
  probeVersion: (target: ProbeTarget) => Promise<string | null>;
  sync: ModelSync;
  scheduler: CheckScheduler;
  retention: RetentionLoop;
}

/** The checker for the router's `checker` option: an instance as given, options, or `false` (no scheduled checks). */
export function toHealthChecker(option: HealthChecker | HealthCheckerOptions | false | undefined): HealthChecker {
  if (option instanceof HealthChecker) return option;
  if (option === false) return new HealthChecker({ schedule: false });
  return new HealthChecker(option);
}

/**
 * Builds the health parts and binds the checker to them.
 *
 * @example
 * const { scheduler, retention } = createHealth(deps);
 * scheduler.start(); retention.start();
 */
export function createHealth(deps: HealthDeps): HealthParts {
  const { checker, store, clock, logger } = deps;
  const options = checker.options;
  const probeOptions: ProbeOptions = { fetch: deps.fetch, clock, timeoutMs: options.timeoutMs, maxBodyBytes: options.maxBodyBytes };
  const probe = withStaticModels(backendProbe(probeOptions));
  const sync = modelSync(store, deps.detectCapabilities, clock);
  const detected = new Map<string, EndpointType>();
  store.on('endpointRemoved', (endpoint) => detected.delete(endpoint.id));
  const checkDeps: CheckDeps = { store, probe, clock, secretBox: deps.secretBox, sync: options.syncOnCheck ? sync : null, detected, load: deps.load };
  const scheduler = new CheckScheduler({
    store,
    clock,
    check: (record, signal) => runCheck(checkDeps, record, signal),
    owns: deps.owns,
    keepCadence: deps.shared,
    schedule: options.schedule,
    concurrency: options.concurrency,
    strikeRecheckMs: options.strikeRecheckMs,
    onChecked: (result) => announceCheck(checker, result, logger),
    onError: (id, err) => announceError(checker, id, err, logger),
  });
  bindChecker(checker, { scheduler, store, logger });
  const retention = new RetentionLoop({
    storage: deps.storage,
    clock,
    logger,
    retentionDays: options.retentionDays,
    pruneRevokedKeys: deps.pruneRevokedKeys,
    intervalMs: options.retentionIntervalMs,
    onError: (err) => announceError(checker, null, err, logger),
  });
  return {
    probe,
    probeVersion: (target) => probeVersion(target.base_url, target.apiKey, probeOptions),
    sync,
    scheduler,
    retention,
  };
}
