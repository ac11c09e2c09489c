/**
 * API keys as the admin API sees them: the input schemas of create, update and the usage query,
 * and the public shape of a key (never its secret or digest).
 */
import { z } from 'zod';
import { ROLES, type Role } from '../roles.js';
import { endpointNameSchema } from '../schema.js';
import type { KeyRecord, KeyUsageRow } from '../storage/key-types.js';

const ISO_MESSAGE = 'must be an ISO-8601 UTC time such as 2030-01-01T00:00:00.000Z';
/** An ISO-8601 UTC time, stored in the one form every other time has (`…T00:00:00.000Z`). */
const isoTime = z.iso.datetime({ message: ISO_MESSAGE }).transform((value) => new Date(value).toISOString());

/** Per-key limits as the API takes them; `null` removes a limit. */
const limitsInputSchema = z.strictObject({
  requests_per_minute: z.number().int('must be an integer').min(1).max(1_000_000).nullable().optional(),
  max_concurrency: z.number().int('must be an integer').min(1).max(100_000).nullable().optional(),
  models: z
    .array(z.string().min(1).max(512))
    .min(1, 'must name at least one model (or be null for every model)')
    .max(1000)
    .refine((models) => new Set(models).size === models.length, 'must not name a model twice')
    .nullable()
    .optional(),
});

/** Body of "create a key". Unknown fields are rejected; `one_use` needs the `node` role. */
export const createKeyInputSchema = z
  .strictObject({
    name: endpointNameSchema,
    role: z.enum(ROLES),
    enabled: z.boolean().default(true),
    one_use: z.boolean().default(false),
    expires_at: isoTime.nullable().default(null),
    limits: limitsInputSchema.default({}),
  })
  .refine((input) => !input.one_use || input.role === 'node', { message: 'only node keys (registration tokens) can be one-use', path: ['one_use'] });
/** Input of `router.keys.create` (before defaults are applied). */
export type CreateKeyInput = z.input<typeof createKeyInputSchema>;

/** Body of "update a key": every field optional, at least one; `null` clears expiry or a limit. */
export const updateKeyInputSchema = z
  .strictObject({
    name: endpointNameSchema.optional(),
    role: z.enum(ROLES).optional(),
    enabled: z.boolean().optional(),
    expires_at: isoTime.nullable().optional(),
    limits: limitsInputSchema.optional(),
  })
  .refine((input) => Object.values(input).some((v) => v !== undefined), 'must change at least one field');
/** Input of `router.keys.update`. */
export type UpdateKeyInput = z.input<typeof updateKeyInputSchema>;

/** Query of "a key's usage": a range of time, at most the retention period (default: the last 24 hours). */
export const usageQuerySchema = z.strictObject({
  from: isoTime.optional(),
  to: isoTime.optional(),
});
/** Query of `router.keys.usage`. */
export type KeyUsageQuery = z.input<typeof usageQuerySchema>;

/** Where a key comes from: created at runtime, or configured (the `auth` option, `LLMLB_API_KEYS`). */
export type KeySource = 'runtime' | 'config';

/**
 * Whether a key works now: `active`; `disabled` by an admin; `expired`; `consumed` (a one-use
 * registration token that was used); `revoked` for good.
 */
export type KeyState = 'active' | 'disabled' | 'expired' | 'consumed' | 'revoked';

/** A key's limits as the API shows them (null: no limit). */
export interface KeyLimits {
  requests_per_minute: number | null;
  max_concurrency: number | null;
  models: string[] | null;
}

/** An API key as the admin API returns it: never the secret, never its digest. */
export interface ApiKey {
  id: string;
  name: string;
  role: Role;
  /** The readable start of the secret (`llmlb_ab12cd34`); null for configured keys. */
  prefix: string | null;
  source: KeySource;
  state: KeyState;
  enabled: boolean;
  one_use: boolean;
  expires_at: string | null;
  limits: KeyLimits;
  created_at: string | null;
  updated_at: string | null;
  consumed_at: string | null;
  revoked_at: string | null;
}

/** The answer of "create a key": the key and, this once, its secret. */
export interface CreatedApiKey extends ApiKey {
  /** The key to send as `Authorization: Bearer …`. Shown only here: llmlb keeps its digest only. */
  secret: string;
}

/** A key's usage in a range: rows per model and hour, and their totals. */
export interface KeyUsageReport {
  key_id: string;
  from: string;
  to: string;
  usage: Omit<KeyUsageRow, 'key_id'>[];
  totals: { requests: number; errors: number; prompt_tokens: number; completion_tokens: number };
}

/** The state of a runtime key at `now` (epoch ms). */
export function keyState(record: KeyRecord, now: number): KeyState {
  if (record.revoked_at !== null) return 'revoked';
  if (record.consumed_at !== null) return 'consumed';
  if (record.expires_at !== null && Date.parse(record.expires_at) <= now) return 'expired';
  return record.enabled ? 'active' : 'disabled';
}

/** The public shape of a runtime key at `now`. */
export function toApiKey(record: KeyRecord, now: number): ApiKey {
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    prefix: record.prefix,
    source: 'runtime',
    state: keyState(record, now),
    enabled: record.enabled,
    one_use: record.one_use,
    expires_at: record.expires_at,
    limits: { requests_per_minute: record.rpm, max_concurrency: record.max_concurrency, models: record.models && [...record.models] },
    created_at: record.created_at,
    updated_at: record.updated_at,
    consumed_at: record.consumed_at,
    revoked_at: record.revoked_at,
  };
}

/** The public shape of a configured key (read-only: no prefix, no limits, always active). */
export function configApiKey(id: string, role: Role, name: string | undefined): ApiKey {
  return {
    id,
    name: name ?? `configured ${role} key`,
    role,
    prefix: null,
    source: 'config',
    state: 'active',
    enabled: true,
    one_use: false,
    expires_at: null,
    limits: { requests_per_minute: null, max_concurrency: null, models: null },
    created_at: null,
    updated_at: null,
    consumed_at: null,
    revoked_at: null,
  };
}
