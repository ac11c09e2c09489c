/**
 * Where a CLI setting comes from — a flag or an environment variable — and its validation with a
 * message that names the source. Flags win; empty environment variables count as unset.
 */
import type { z } from 'zod';
import { CliUsageError } from './usage-error.js';

/**
 * Environment variables the CLI reads.
 *
 * @example
 * const env: CliEnv = process.env;
 */
export type CliEnv = Readonly<Record<string, string | undefined>>;

/** The env var or flag a value came from, for messages. */
export type Source = { readonly label: string; readonly raw: string };

/** The flag's value, else the environment variable's, else undefined. */
export function pick(flag: string | undefined, flagName: string, env: CliEnv, envName: string): Source | undefined {
  if (flag !== undefined) return { label: `--${flagName}`, raw: flag };
  const fromEnv = env[envName];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { label: envName, raw: fromEnv.trim() };
  return undefined;
}

/** Validates one value with a zod schema; the usage error names its source and echoes the value. */
export function validate<T>(schema: z.ZodType<T>, source: Source, rule: string): T {
  const parsed = schema.safeParse(source.raw);
  if (parsed.success) return parsed.data;
  throw new CliUsageError(`invalid ${source.label} ${JSON.stringify(truncate(source.raw))}: ${rule}`);
}

function truncate(text: string): string {
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}

