/**
 * One health check, top to bottom: probe the endpoint → apply the status rules (`nextStatus`) →
 * record the endpoint's new health fields and one history row through the store → sync the
 * models it reported. A plain function of its dependencies, so it is testable without a router.
 */
import { randomUUID } from 'node:crypto';
import { type Clock, isoAt } from '../clock.js';
import { type SecretBox, openApiKey } from '../crypto.js';
import type { ModelSync } from '../models/sync.js';
import type { ReportedModel } from '../backends/types.js';
import type { LoadFigures } from '../load-signals.js';
import type { EndpointHealthCheck, EndpointPatch, EndpointRecord, EndpointType } from '../schema.js';
import { type Probe, type ProbeResult, probeTarget } from './probe.js';
import { type FailureKind, nextStatus } from './transition.js';

/** The result of one check, as returned by `checker.check()` and carried by the `check` event. */
export type CheckReport =
  | { success: true; latency_ms: number; model_ids: string[]; server: string | null }
  | { success: false; error: string; kind: FailureKind; latency_ms: number };

/** A check and what it changed; `recorded` is absent when the endpoint vanished meanwhile. */
export interface CheckResult {
  report: CheckReport;
  recorded?: { endpoint: EndpointRecord; previous: EndpointRecord; history: EndpointHealthCheck };
}

/** The store operations a check needs. */
export interface CheckStore {
  readonly registry: { getEndpoint(id: string): EndpointRecord | undefined };
  recordCheck(id: string, patch: EndpointPatch, check: EndpointHealthCheck): Promise<EndpointRecord | undefined>;
}

/** What {@link runCheck} works with. */
export interface CheckDeps {
  store: CheckStore;
  probe: Probe;
  clock: Clock;
  secretBox: SecretBox | null;
  /** Stores the probed model list; null when checks do not sync models. */
  sync: ModelSync | null;
  /**
   * Endpoints whose type this instance detected since it started (or took their checks over),
   * with the type detected: the next checks do not detect again while the endpoint stays online
   * with that type (it comes back online, or an admin sets another type and hands it back to
   * detection: detected again).
   */
  detected: Map<string, EndpointType>;
  /** Receives the load figures a successful check read (absent: not kept). */
  load?: (endpointId: string, load: LoadFigures | null) => void;
}

/** True when this check should detect the endpoint's type again. */
function shouldDetect(detected: ReadonlyMap<string, EndpointType>, record: EndpointRecord): boolean {
  if (record.type_source === 'admin') return false;
  return record.status !== 'online' || detected.get(record.id) !== record.type;
}

/**
 * The models a probe reported, as the model sync takes them: with the backend's details when
 * the probe read them, else the bare ids.
 */
export function probedModels(probe: Extract<ProbeResult, { ok: true }>): readonly (string | ReportedModel)[] {
  return probe.backend?.models ?? probe.modelIds;
}

/**
 * Checks one endpoint and records the outcome. The status rules apply to the endpoint's state
 * when the probe ends (it may have changed meanwhile); a success clears `last_error` (the history
 * keeps every error). Storage failures reject.
 *
 * @example
 * const { report } = await runCheck(deps, record, new AbortController().signal);
 */
export async function runCheck(deps: CheckDeps, record: EndpointRecord, signal: AbortSignal): Promise<CheckResult> {
  const detect = shouldDetect(deps.detected, record);
  const target = { ...probeTarget(record, openApiKey(deps.secretBox, record)), detect };
  const probe = await deps.probe(target, signal);
  const report = toReport(probe);
  const previous = deps.store.registry.getEndpoint(record.id);
  if (!previous || signal.aborted) return { report };

  const { status, errorCount } = nextStatus(previous.status, previous.error_count, probe.ok ? { ok: true } : probe);
  const now = isoAt(deps.clock);
  const patch: EndpointPatch = probe.ok
    ? { status, error_count: errorCount, latency_ms: probe.latencyMs, last_seen: now, last_error: null, ...typePatch(previous, probe, detect) }
    : { status, error_count: errorCount, last_error: probe.message };
  if (probe.ok && detect) deps.detected.set(record.id, probe.backend?.type ?? record.type);
  const history: EndpointHealthCheck = {
    id: randomUUID(),
    endpoint_id: record.id,
    checked_at: now,
    success: probe.ok,
    latency_ms: probe.ok ? probe.latencyMs : null,
    error_message: probe.ok ? null : probe.message,
    status_before: previous.status,
    status_after: status,
  };
  const endpoint = await deps.store.recordCheck(record.id, patch, history);
  if (!endpoint) return { report };
  if (probe.ok) deps.load?.(record.id, probe.backend?.load ?? null);
  if (probe.ok && deps.sync) await deps.sync(record.id, probedModels(probe));
  return { report, recorded: { endpoint, previous, history } };
}

/** The detected type, when this check detected one that differs from the stored type (an admin's is kept). */
function typePatch(previous: EndpointRecord, probe: Extract<ProbeResult, { ok: true }>, detected: boolean): EndpointPatch {
  const type = probe.backend?.type;
  if (!detected || type === undefined || previous.type_source === 'admin' || type === previous.type) return {};
  return { type };
}

function toReport(probe: ProbeResult): CheckReport {
  return probe.ok
    ? { success: true, latency_ms: probe.latencyMs, model_ids: probe.modelIds, server: probe.server }
    : { success: false, error: probe.message, kind: probe.kind, latency_ms: probe.latencyMs };
}
