/**
 * The health checker (SPEC §3–§4): probes every endpoint on its own interval, applies the status
 * rules, writes the endpoint and one history row per check, keeps the registry in step, syncs
 * models, prunes old history, and tells the world through typed events.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'eventemitter3';
import { z } from 'zod';
import { type Clock, type TimerHandle, isoAt } from '../clock.js';
import { type SecretBox, openApiKey } from '../crypto.js';
import { LlmlbError, endpointNotFound, toLlmlbError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CapabilityDetector } from '../models/capabilities.js';
import type { Registry } from '../registry.js';
import {
  type Endpoint,
  type EndpointHealthCheck,
  type EndpointModel,
  type EndpointPatch,
  type EndpointRecord,
  type EndpointStatus,
  type ModelSetDiff,
  toPublicEndpoint,
} from '../schema.js';
import type { StorageAdapter } from '../storage/types.js';
import {
  DEFAULT_MAX_MODEL_LIST_BYTES,
  type FetchLike,
  type ProbeOptions,
  type ProbeResult,
  probeModels,
  probeVersion,
} from './probe.js';
import { type FailureKind, nextStatus } from './transition.js';

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

/** The result of one check, as returned by `check()` and carried by the `check` event. */
export type CheckReport =
  | { success: true; latency_ms: number; model_ids: string[]; server: string | null }
  | { success: false; error: string; kind: FailureKind; latency_ms: number };

/** Result of a connection test (`router.endpoints.test`, `POST /v0/endpoints/:id/test`). */
export type ConnectionTestResult =
  | { success: true; latency_ms: number; endpoint_info: { version: string | null; model_count: number } }
  | { success: false; error: string; error_kind: FailureKind; latency_ms: null };

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
  endpointId: string | null;
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

/** What the router gives the checker to work with. */
export interface CheckerContext {
  storage: StorageAdapter;
  registry: Registry;
  secretBox: SecretBox | null;
  clock: Clock;
  logger: Logger;
  fetch: FetchLike;
  detectCapabilities: CapabilityDetector;
}

const UNUSABLE: ReadonlySet<EndpointStatus> = new Set(['offline', 'error']);
const DAY_MS = 86_400_000;

/**
 * Watches endpoints. Created by `createRouter` (pass options through its `checker` option, or an
 * instance to subscribe before the router exists) and reachable as `router.checker`.
 *
 * @example
 * router.checker.on('statusChange', ({ endpoint, from, to }) => log.info(`${endpoint.name}: ${from} → ${to}`));
 * await router.checker.idle(); // every running check has finished
 */
export class HealthChecker extends EventEmitter<HealthCheckerEvents> {
  readonly #options: Required<HealthCheckerOptions>;
  #ctx: CheckerContext | undefined;
  #timers = new Map<string, TimerHandle>();
  #inFlight = new Map<string, Promise<CheckReport>>();
  #retentionTimer: TimerHandle | undefined;
  #abort = new AbortController();
  #running = false;

  constructor(options: HealthCheckerOptions = {}) {
    super();
    const parsed = healthCheckerOptionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new LlmlbError('invalid_request', `invalid checker options: ${z.prettifyError(parsed.error)}`);
    }
    this.#options = Object.freeze({
      timeoutMs: 5_000,
      concurrency: 1_000,
      schedule: true,
      syncOnCheck: true,
      retentionDays: 30,
      retentionIntervalMs: 3_600_000,
      maxBodyBytes: DEFAULT_MAX_MODEL_LIST_BYTES,
      strikeRecheckMs: 2_000,
      ...parsed.data,
    });
  }

  /** The effective options. */
  get options(): Readonly<Required<HealthCheckerOptions>> {
    return this.#options;
  }

  /** @internal Connects the checker to a router. A checker serves one router. */
  attach(ctx: CheckerContext): void {
    if (this.#ctx && this.#ctx !== ctx) throw new LlmlbError('invalid_request', 'this HealthChecker already belongs to a router');
    this.#ctx = ctx;
  }

  /**
   * Starts the start-up round — every endpoint checked at once, in parallel (bounded by
   * `concurrency`) — then schedules each endpoint and the history pruning. Returns when the
   * round is launched; `idle()` tells when it has finished.
   */
  start(): void {
    const ctx = this.#context();
    this.#running = true;
    this.#pruneHistory();
    if (!this.#options.schedule) return;
    const ids = ctx.registry.listEndpoints().map((e) => e.id);
    void this.#runBounded(ids, async (id) => {
      await this.check(id).catch((err: unknown) => this.#reportError(id, err));
    });
  }

  /** Clears every timer and aborts running checks; resolves when they have settled. */
  async stop(): Promise<void> {
    this.#running = false;
    for (const timer of this.#timers.values()) this.#ctx?.clock.clearTimeout(timer);
    this.#timers.clear();
    if (this.#retentionTimer !== undefined) this.#ctx?.clock.clearTimeout(this.#retentionTimer);
    this.#retentionTimer = undefined;
    this.#abort.abort();
    await this.idle();
  }

  /** Resolves once no check is running (including checks started while waiting). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight.values()]);
  }

  /**
   * Checks one endpoint now and records the result. A check already running for it is joined
   * rather than duplicated. `not_found` if the endpoint does not exist.
   */
  check(endpointId: string): Promise<CheckReport> {
    const running = this.#inFlight.get(endpointId);
    if (running) return running;
    const ctx = this.#context();
    const record = ctx.registry.getEndpoint(endpointId);
    if (!record) return Promise.reject(endpointNotFound(endpointId));
    const began = ctx.clock.now();
    const promise = this.#check(ctx, record).finally(() => {
      this.#inFlight.delete(endpointId);
      // The interval runs from the start of a check, so slow (timing-out) checks do not
      // stretch it: a dead endpoint is still detected within two intervals.
      const interval = (ctx.registry.getEndpoint(endpointId)?.health_check_interval_secs ?? 0) * 1000;
      this.#schedule(endpointId, Math.max(0, interval - (ctx.clock.now() - began)));
    });
    this.#inFlight.set(endpointId, promise);
    return promise;
  }

  /**
   * A passive strike (a proxied request failed): check the endpoint now, and if that check fails
   * while it stays `online` (one failure is not enough to go offline), check again after
   * `strikeRecheckMs` — so a dead endpoint goes offline within seconds, and one that blinked is
   * back as soon as it answers.
   */
  strike(endpointId: string): void {
    this.check(endpointId).then(
      (report) => {
        if (!report.success && this.#ctx?.registry.getEndpoint(endpointId)?.status === 'online') {
          this.#schedule(endpointId, this.#options.strikeRecheckMs);
        }
      },
      (err: unknown) => this.#reportError(endpointId, err),
    );
  }

  /**
   * The connection test: an immediate check that moves the status like a scheduled one, plus the
   * upstream's version when it tells (Ollama's `/api/version`, else its `Server` header).
   */
  async test(endpointId: string): Promise<ConnectionTestResult> {
    const report = await this.check(endpointId);
    if (!report.success) return { success: false, error: report.error, error_kind: report.kind, latency_ms: null };
    const ctx = this.#context();
    const record = ctx.registry.getEndpoint(endpointId);
    const version = record
      ? ((await probeVersion(record.base_url, openApiKey(ctx.secretBox, record), this.#probeOptions(ctx))) ?? report.server)
      : report.server;
    return { success: true, latency_ms: report.latency_ms, endpoint_info: { version, model_count: report.model_ids.length } };
  }

  /**
   * Fetches an endpoint's model list and makes it the stored model set. Does not change the
   * endpoint's status. `endpoint_offline` (stored models kept) when the endpoint does not answer
   * with a model list.
   */
  async sync(endpointId: string): Promise<{ models: EndpointModel[]; diff: ModelSetDiff }> {
    const ctx = this.#context();
    const record = ctx.registry.getEndpoint(endpointId);
    if (!record) throw endpointNotFound(endpointId);
    const probe = await this.#probe(ctx, record);
    if (!probe.ok) {
      ctx.logger.warn({ endpoint_id: record.id, reason: probe.message }, 'model sync failed: endpoint did not answer');
      throw new LlmlbError('endpoint_offline', `endpoint ${record.name} did not answer: ${probe.message}`);
    }
    const diff = await this.#applyModels(ctx, record.id, probe.modelIds);
    if (!diff) throw endpointNotFound(endpointId);
    return { models: ctx.registry.modelsOf(record.id), diff };
  }

  /** @internal Starts watching a newly created endpoint: a first check right away, then its interval. */
  track(record: EndpointRecord): void {
    if (!this.#ctx || !this.#running || !this.#options.schedule) return;
    void this.check(record.id).catch((err: unknown) => this.#reportError(record.id, err));
  }

  /** @internal Re-plans an endpoint whose settings changed. */
  retrack(record: EndpointRecord, previous: EndpointRecord): void {
    if (record.health_check_interval_secs !== previous.health_check_interval_secs) this.#schedule(record.id);
  }

  /** @internal Stops watching a deleted endpoint. */
  untrack(id: string): void {
    const timer = this.#timers.get(id);
    if (timer !== undefined) this.#ctx?.clock.clearTimeout(timer);
    this.#timers.delete(id);
  }

  #context(): CheckerContext {
    if (!this.#ctx) throw new LlmlbError('invalid_request', 'the health checker is not attached to a router');
    return this.#ctx;
  }

  /** (Re)arms the timer of an endpoint at its interval (or after `delayMs`), if scheduling is on. */
  #schedule(id: string, delayMs?: number): void {
    this.untrack(id);
    const ctx = this.#ctx;
    if (!ctx || !this.#running || !this.#options.schedule) return;
    const record = ctx.registry.getEndpoint(id);
    if (!record) return;
    const timer = ctx.clock.setTimeout(() => {
      this.#timers.delete(id);
      void this.check(id).catch((err: unknown) => this.#reportError(id, err));
    }, delayMs ?? record.health_check_interval_secs * 1000);
    this.#timers.set(id, timer);
  }

  async #probe(ctx: CheckerContext, record: EndpointRecord): Promise<ProbeResult> {
    return probeModels(record.base_url, openApiKey(ctx.secretBox, record), this.#probeOptions(ctx));
  }

  #probeOptions(ctx: CheckerContext): ProbeOptions {
    return {
      fetch: ctx.fetch,
      clock: ctx.clock,
      timeoutMs: this.#options.timeoutMs,
      maxBodyBytes: this.#options.maxBodyBytes,
      signal: this.#abort.signal,
    };
  }


  async #check(ctx: CheckerContext, initial: EndpointRecord): Promise<CheckReport> {
    const probe = await this.#probe(ctx, initial);
    const report: CheckReport = probe.ok
      ? { success: true, latency_ms: probe.latencyMs, model_ids: probe.modelIds, server: probe.server }
      : { success: false, error: probe.message, kind: probe.kind, latency_ms: probe.latencyMs };
    // The endpoint may have changed (or gone) while the probe ran: apply the result to its latest state.
    const current = ctx.registry.getEndpoint(initial.id);
    if (!current || this.#abort.signal.aborted) return report;

    const { status, errorCount } = nextStatus(current.status, current.error_count, probe.ok ? { ok: true } : probe);
    const now = isoAt(ctx.clock);
    const patch: EndpointPatch = { status, error_count: errorCount };
    if (probe.ok) {
      patch.latency_ms = probe.latencyMs;
      patch.last_seen = now;
    } else {
      patch.last_error = probe.message;
    }
    const history: EndpointHealthCheck = {
      id: randomUUID(),
      endpoint_id: current.id,
      checked_at: now,
      success: probe.ok,
      latency_ms: probe.ok ? probe.latencyMs : null,
      error_message: probe.ok ? null : probe.message,
      status_before: current.status,
      status_after: status,
    };
    const updated = await ctx.storage.recordHealthCheck(current.id, patch, history);
    if (!updated || !ctx.registry.getEndpoint(current.id)) return report; // deleted meanwhile
    ctx.registry.upsertEndpoint(updated);
    if (probe.ok && this.#options.syncOnCheck) await this.#applyModels(ctx, updated.id, probe.modelIds);

    const endpoint = toPublicEndpoint(updated);
    this.emit('check', { endpoint, report, record: history });
    if (current.status !== status) this.#emitTransition(endpoint, current.status, status);
    ctx.logger.debug({ endpoint_id: updated.id, success: probe.ok, status, latency_ms: probe.latencyMs }, 'health check');
    return report;
  }

  #emitTransition(endpoint: Endpoint, from: EndpointStatus, to: EndpointStatus): void {
    const event = { endpoint, from, to };
    this.#ctx?.logger.info({ endpoint_id: endpoint.id, name: endpoint.name, from, to }, 'endpoint status changed');
    this.emit('statusChange', event);
    if (to === 'online') this.emit('online', event);
    else if (UNUSABLE.has(to) && !UNUSABLE.has(from)) this.emit('offline', event);
  }

  /** Stores a fresh model list for an endpoint; `undefined` if the endpoint is gone. */
  async #applyModels(ctx: CheckerContext, endpointId: string, modelIds: readonly string[]): Promise<ModelSetDiff | undefined> {
    const discovered = modelIds.map((model_id) => ({ model_id, capabilities: ctx.detectCapabilities(model_id) }));
    const checkedAt = isoAt(ctx.clock);
    const diff = await ctx.storage.replaceEndpointModels(endpointId, discovered, checkedAt);
    const record = ctx.registry.getEndpoint(endpointId);
    if (!diff || !record) return undefined;
    ctx.registry.setModels(
      endpointId,
      discovered.map((m) => ({ endpoint_id: endpointId, model_id: m.model_id, capabilities: m.capabilities, last_checked: checkedAt })),
    );
    this.emit('synced', { endpoint: toPublicEndpoint(record), diff });
    if (diff.added.length > 0 || diff.removed.length > 0) {
      ctx.logger.info({ endpoint_id: endpointId, added: diff.added.length, removed: diff.removed.length }, 'models synced');
    }
    return diff;
  }

  /** Deletes history older than the retention period, then re-arms itself. */
  #pruneHistory(): void {
    const ctx = this.#ctx;
    if (!ctx || !this.#running) return;
    const cutoff = new Date(ctx.clock.now() - this.#options.retentionDays * DAY_MS).toISOString();
    ctx.storage
      .deleteHealthChecksBefore(cutoff)
      .then((deleted) => {
        if (deleted > 0) ctx.logger.info({ deleted, cutoff }, 'pruned health-check history');
      })
      .catch((err: unknown) => this.#reportError(null, err));
    this.#retentionTimer = ctx.clock.setTimeout(() => this.#pruneHistory(), this.#options.retentionIntervalMs);
  }

  async #runBounded(ids: readonly string[], task: (id: string) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ids.length && this.#running) await task(ids[next++] as string);
    };
    await Promise.all(Array.from({ length: Math.min(this.#options.concurrency, ids.length) }, worker));
  }

  #reportError(endpointId: string | null, err: unknown): void {
    if (err instanceof LlmlbError && err.code === 'not_found') return;
    const error = toLlmlbError(err);
    this.#ctx?.logger.error({ endpoint_id: endpointId, code: error.code, err: error.cause ?? error }, 'health checker failure');
    this.emit('error', { endpointId, error });
  }
}
