/** llmlb — public exports only. */
export { createRouter } from './router.js';
export type { Router, RouterEvents, RouterOptions, RouterState } from './router.js';
export { expectedLatencySelector, latencySelector, roundRobinSelector, leastBusySelector } from './select/index.js';
export type { EndpointStatsView, SelectionCandidate, SelectionContext, Selector } from './select/index.js';
export type { LoadFigures, LoadReport, LoadSource } from './load-signals.js';
export type { InferenceRoute, ProxyOptions, RequestEvent } from './proxy/options.js';
export type { AffinityOptions } from './proxy/affinity.js';
export { hashKey } from './http/auth.js';
export type { UpstreamPolicyOptions } from './upstream-policy.js';
export type { AuthFunction, AuthKey, AuthOption, Principal, Role } from './http/auth.js';
export type { KeyList, KeyService } from './keys/service.js';
export type {
  ApiKey,
  CreateKeyInput,
  CreatedApiKey,
  KeyLimits,
  KeySource,
  KeyState,
  KeyUsageQuery,
  KeyUsageReport,
  UpdateKeyInput,
} from './keys/schema.js';
export { HealthChecker } from './health/checker.js';
export type {
  CheckEvent,
  CheckReport,
  CheckerErrorEvent,
  HealthCheckerEvents,
  HealthCheckerOptions,
  StatusChangeEvent,
  SyncedEvent,
} from './health/checker.js';
export { FAILURE_KINDS, OFFLINE_AFTER_FAILURES, nextStatus } from './health/transition.js';
export type { CheckOutcome, FailureKind } from './health/transition.js';
export type { FetchLike, Probe, ProbeResult, ProbeTarget } from './health/probe.js';
export * from './models/index.js';
export type {
  ConnectionTestResult,
  EndpointDetail,
  EndpointList,
  EndpointModelInfo,
  EndpointService,
  EndpointSummary,
  HealthCheckList,
  SyncResult,
} from './endpoints.js';
export type { AliasInfo, ModelCatalog, ModelEndpointInfo, ModelInfo } from './catalog.js';
export type { AliasList, AliasService } from './aliases.js';
export type { Alias, AliasRecord, CreateAliasInput, UpdateAliasInput } from './alias-schema.js';
export type { StaticModel, StaticModelInput } from './static-models.js';
export { LlmlbError, isLlmlbError, HTTP_STATUS_BY_CODE } from './errors.js';
export type { ErrorCode, ValidationIssue, LlmlbErrorOptions } from './errors.js';
export { ADMIN_STATES, ENDPOINT_STATUSES, ENDPOINT_TYPES, TYPE_SOURCES, normalizeBaseUrl, toPublicEndpoint } from './schema.js';
export type {
  AdminState,
  Capability,
  CapabilitySource,
  CreateEndpointInput,
  DiscoveredModel,
  Endpoint,
  EndpointHealthCheck,
  EndpointModel,
  EndpointPatch,
  EndpointRecord,
  EndpointStatus,
  EndpointType,
  HealthCheckPageInput,
  ListEndpointsFilter,
  ModelMetadata,
  ModelSetDiff,
  TypeSource,
  UpdateEndpointInput,
} from './schema.js';
export { memoryStorage } from './storage/memory/index.js';
export { sqliteStorage } from './storage/sqlite/index.js';
export type { SqliteStorageConfig } from './storage/sqlite/index.js';
export { postgresStorage } from './storage/postgres/index.js';
export type { PostgresStorageConfig } from './storage/postgres/index.js';
export type { AliasPatch, AliasStorage } from './storage/alias-storage.js';
export type { ChangeBatch, ChangeKind, ChangeListener, HealthCheckPage, Lease, StorageAdapter, StorageChange } from './storage/types.js';
export type { KeyPatch, KeyRecord, KeyStorage, KeyUsageRange, KeyUsageRow } from './storage/key-types.js';
export type { ClusterOptions } from './cluster/index.js';
export { createSecretBox } from './crypto.js';
export type { SecretBox } from './crypto.js';
export { silentLogger } from './logger.js';
export type { Logger, LogFn } from './logger.js';
export { systemClock } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
