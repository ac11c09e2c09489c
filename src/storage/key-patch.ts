/** What every storage adapter shares about keys: applying a patch, and the order of usage rows. */
import type { KeyPatch, KeyUsageRow } from './key-types.js';

/** Every field a {@link KeyPatch} may set; the type makes this list exhaustive. */
const PATCHABLE: Readonly<Record<keyof KeyPatch, true>> = Object.freeze({
  name: true,
  role: true,
  enabled: true,
  expires_at: true,
  rpm: true,
  max_concurrency: true,
  models: true,
  updated_at: true,
  revoked_at: true,
});
const PATCH_KEYS = Object.keys(PATCHABLE) as (keyof KeyPatch)[];

/** The fields a key patch really sets: known fields whose value is not `undefined` (`null` is a value). */
export function keyPatchFields(patch: KeyPatch): KeyPatch {
  const fields: Record<string, unknown> = {};
  for (const key of PATCH_KEYS) if (patch[key] !== undefined) fields[key] = patch[key];
  return fields as KeyPatch;
}

/** The identity of a usage row: its key, model and hour. */
export function usageKey(row: Pick<KeyUsageRow, 'key_id' | 'model' | 'hour'>): string {
  return `${row.key_id}\u0000${row.model}\u0000${row.hour}`;
}

/** Orders usage rows by hour, then model, in JavaScript's string order (whatever a database's collation). */
export function byHourThenModel(a: KeyUsageRow, b: KeyUsageRow): number {
  if (a.hour !== b.hour) return a.hour < b.hour ? -1 : 1;
  return a.model < b.model ? -1 : a.model > b.model ? 1 : 0;
}
