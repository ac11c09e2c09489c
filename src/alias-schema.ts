/**
 * Model aliases, the domain side: what an alias is (one public model name for several backend
 * model ids), how it is stored, and the zod schemas of the `/v0/aliases` inputs.
 */
import { z } from 'zod';

// C0 and C1 control characters, DEL, and the Unicode line/paragraph separators.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Most targets one alias may have. */
export const MAX_ALIAS_TARGETS = 32;

/**
 * A model name as clients send it in `model`: 1–512 characters, no control characters, no
 * leading or trailing whitespace (names are matched exactly, never trimmed).
 */
export const modelNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(512, 'must be at most 512 characters')
  .refine((name) => !CONTROL_CHARS.test(name), 'must not contain control characters')
  .refine((name) => name.trim() === name, 'must not start or end with whitespace');

/**
 * An alias name: a model name that is also a path under `/v0/aliases/`, so no empty, `.` or `..`
 * segment (no leading, trailing or doubled `/`).
 */
const aliasNameSchema = modelNameSchema.refine(
  (name) => name.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..'),
  'must not start or end with "/", contain "//", or have a "." or ".." segment (it is a path under /v0/aliases/)',
);

/** An alias's targets: 1–32 distinct model ids, in order of preference. */
const targetsSchema = z
  .array(modelNameSchema)
  .min(1, 'must name at least one model')
  .max(MAX_ALIAS_TARGETS, `must name at most ${MAX_ALIAS_TARGETS} models`)
  .refine((targets) => new Set(targets).size === targets.length, 'must not name a model twice');

/** Body of "create an alias". Unknown fields are rejected. */
export const createAliasInputSchema = z.strictObject({
  name: aliasNameSchema,
  targets: targetsSchema,
});
/** Input of `router.aliases.create`. */
export type CreateAliasInput = z.input<typeof createAliasInputSchema>;

/** Body of "update an alias": the new targets (the name is the alias's identity and never changes). */
export const updateAliasInputSchema = z.strictObject({
  name: z.never({ error: 'cannot be changed; delete the alias and create it again' }).optional(),
  targets: targetsSchema,
});
/** Input of `router.aliases.update`. */
export type UpdateAliasInput = Omit<z.input<typeof updateAliasInputSchema>, 'name'>;

/**
 * An alias as stored. `version` starts at 1 and grows with every write of the row, so a reader
 * holding two copies keeps the newer one; it is internal (not part of {@link Alias}).
 */
export interface AliasRecord {
  /** The public model name clients send. */
  name: string;
  /** Backend model ids it stands for, in order of preference. */
  targets: string[];
  created_at: string;
  updated_at: string;
  version: number;
}

/** An alias as the API returns it. */
export type Alias = Omit<AliasRecord, 'version'>;

/** Strips the internal version from a stored alias. */
export function toPublicAlias(record: AliasRecord): Alias {
  const { version: _version, ...rest } = record;
  return { ...rest, targets: [...rest.targets] };
}
