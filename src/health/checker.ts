/**
 * `router.checker`: the public face of health checking — a typed event emitter (`check`,
 * `statusChange`, `online`, `offline`, `synced`, `error`) with `check(id)` and `idle()`. The work
 * is done by the scheduler and `runCheck`; this module turns their results into events.
 */
import { EventEmitter } from 'eventemitter3';
import { z } from 'zod';
import { LlmlbError, endpointNotFound, toLlmlbError } from '../errors.js';
import type { Logger } from '../logger.js';
import { parseOptions } from '../options.js';
import { type Endpoint, type EndpointHealthCheck, type EndpointStatus, type ModelSetDiff, toPublicEndpoint } from '../schema.js';
import type { EndpointStore } from '../store.js';
import type { CheckReport, CheckResult } from './check.js';
import { DEFAULT_MAX_MODEL_LIST_BYTES } from './probe.js';
import type { CheckScheduler } from './scheduler.js';

export type { CheckReport } from './check.js';

/** Options of the health checker (the `checker` option of `createRouter`). */
export interface HealthCheckerOptions {
  /** Timeout of one check, in ms. Default 5000. */
  timeoutMs?: number;
  /** Most checks run at once during the start-up round. Default 1000. */
  concurrency?: number;
  /**
   * Check automatically: the start-up round, right after registration, and on each endpoint's
   * interval. Default true. When false, only connection tests, `check()` and sync probe upstreams.
   */
  schedule?: boolean;
  /** Replace an endpoint's stored models with each successful check's list. Default true. */
  syncOnCheck?: boolean;
  /** Days of history to keep. Default 30. */
  retentionDays?: number;
  /** How often old history is pruned, in ms. Default one hour. */
  retentionIntervalMs?: number;
  /** Largest accepted model-list body in bytes. Default 8 MiB. */
  maxBodyBytes?: number;
  /**
   * After a passive strike whose check failed while the endpoint stayed `online`, check it again
   * this soon (ms) instead of after its full interval. Default 2000.
   */
  strikeRecheckMs?: number;
}

/** Validates {@link HealthCheckerOptions}. */
const healthCheckerOptionsSchema = z.strictObject({
  timeoutMs: z.number().int().min(1).max(600_000).optional(),
  concurrency: z.number().int().min(1).max(100_000).optional(),
  schedule: z.boolean().optional(),
  syncOnCheck: z.boolean().optional(),
  retentionDays: z.number().positive().max(36_500).optional(),
  retentionIntervalMs: z.number().int().min(1_000).optional(),
  maxBodyBytes: z.number().int().min(1_024).optional(),
  strikeRecheckMs: z.number().int().min(100).max(600_000).optional(),
});

/** Payload of `check`: one check finished and was recorded. */
export interface CheckEvent {
  endpoint: Endpoint;
  report: CheckReport;
  record: EndpointHealthCheck;
}
/** Payload of `statusChange`. */
export interface StatusChangeEvent {
  endpoint: Endpoint;
  from: EndpointStatus;
  to: EndpointStatus;
}
/** Payload of `synced`: an endpoint's model set was replaced. */
export interface SyncedEvent {
  endpoint: Endpoint;
  diff: ModelSetDiff;
}
/** Payload of `error`: something failed inside the checker (e.g. a storage write). */
export interface CheckerErrorEvent {
  endpoint_id: string | null;
  error: LlmlbError;
}

/** Typed events of the {@link HealthChecker}. */
export interface HealthCheckerEvents {
  /** Every recorded check. */
  check: (event: CheckEvent) => void;
  /** Every status transition. */
  statusChange: (event: StatusChangeEvent) => void;
  /** An endpoint became `online`. */
  online: (event: StatusChangeEvent) => void;
  /** An endpoint became unusable: entered `offline` or `error` from `pending` or `online`. */
  offline: (event: StatusChangeEvent) => void;
  /** An endpoint's models were synced. */
  synced: (event: SyncedEvent) => void;
  /** An internal failure; the checker keeps running. */
  error: (event: CheckerErrorEvent) => void;
}

const UNUSABLE: ReadonlySet<EndpointStatus> = new Set(['offline', 'error']);

/** The scheduler each checker drives, set when a router adopts the checker. Module-private. */
const schedulers = new WeakMap<HealthChecker, CheckScheduler>();

/**
 * Watches endpoints. Created by `createRouter` (pass options through its `checker` option, or an
 * instance to subscribe before the router exists) and reachable as `router.checker`.
 *
 * @example
 * router.checker.on('statusChange', ({ endpoint, from, to }) => log.info(`${endpoint.name}: ${from} → ${to}`));
 * await router.checker.idle(); // every running check has finished
 */
export class HealthChecker extends EventEmitter<HealthCheckerEvents> {
  readonly #options: Readonly<Required<HealthCheckerOptions>>;

  constructor(options: HealthCheckerOptions = {}) {
    super();
    const parsed = parseOptions(healthCheckerOptionsSchema, options, 'checker options');
    this.#options = Object.freeze({
      timeoutMs: 5_000,
      concurrency: 1_000,
      schedule: true,
      syncOnCheck: true,
      retentionDays: 30,
      retentionIntervalMs: 3_600_000,
      maxBodyBytes: DEFAULT_MAX_MODEL_LIST_BYTES,
      strikeRecheckMs: 2_000,
      ...parsed,
    });
  }

  /** The effective options. */
  get options(): Readonly<Required<HealthCheckerOptions>> {
    return this.#options;
  }

  /**
   * Checks one endpoint now and records the result. A check already running for it is joined
   * rather than duplicated. `not_found` if the endpoint does not exist.
   */
  check(endpointId: string): Promise<CheckReport> {
    const scheduler = schedulers.get(this);
    if (!scheduler) return Promise.reject(new LlmlbError('not_ready', 'the health checker does not belong to a started router'));
    return scheduler.check(endpointId) ?? Promise.reject(endpointNotFound(endpointId));
  }

  /** Resolves once no check is running (including checks started while waiting). */
  async idle(): Promise<void> {
    await schedulers.get(this)?.idle();
  }
}

/** What a router connects a checker to. */
export interface CheckerBinding {
  scheduler: CheckScheduler;
  store: EndpointStore;
  logger: Logger;
}

/**
 * Makes `checker` the face of a router's scheduler: `check()` and `idle()` reach it, and model
 * changes become `synced` events. A checker serves one router.
 */
export function bindChecker(checker: HealthChecker, binding: CheckerBinding): void {
  if (schedulers.has(checker)) throw new LlmlbError('invalid_request', 'this HealthChecker already belongs to a router');
  schedulers.set(checker, binding.scheduler);
  binding.store.on('modelsChanged', ({ endpoint, diff }) => {
    checker.emit('synced', { endpoint: toPublicEndpoint(endpoint), diff });
    if (diff.added.length > 0 || diff.removed.length > 0) {
      binding.logger.info({ endpoint_id: endpoint.id, added: diff.added.length, removed: diff.removed.length }, 'models synced');
    }
  });
}

/** Emits the events of one finished check: `check`, then any transition. */
export function announceCheck(checker: HealthChecker, result: CheckResult, logger: Logger): void {
  if (!result.recorded) return;
  const { endpoint: record, previous, history } = result.recorded;
  const endpoint = toPublicEndpoint(record);
  checker.emit('check', { endpoint, report: result.report, record: history });
  logger.debug({ endpoint_id: record.id, success: history.success, status: record.status, latency_ms: result.report.latency_ms }, 'health check');
  const from = previous.status;
  const to = record.status;
  if (from === to) return;
  const event = { endpoint, from, to };
  logger.info({ endpoint_id: record.id, name: record.name, from, to }, 'endpoint status changed');
  checker.emit('statusChange', event);
  if (to === 'online') checker.emit('online', event);
  else if (UNUSABLE.has(to) && !UNUSABLE.has(from)) checker.emit('offline', event);
}

/** Emits `error` for an internal failure (an endpoint deleted mid-check is not one). */
export function announceError(checker: HealthChecker, endpointId: string | null, err: unknown, logger: Logger): void {
  if (err instanceof LlmlbError && err.code === 'not_found') return;
  const error = toLlmlbError(err);
  logger.error({ endpoint_id: endpointId, code: error.code, err: error.cause ?? error }, 'health checker failure');
  checker.emit('error', { endpoint_id: endpointId, error });
}
