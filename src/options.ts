/**
 * Parsing of options objects (handler, `auth`, and in time router and checker): zod schemas
 * checked with messages that name the bad option by its dotted path and say what is expected,
 * e.g. `invalid handler options: adminBodyLimit: must be at least 1024`.
 */
import { z } from 'zod';
import { LlmlbError, type ValidationIssue } from './errors.js';

type RawIssue = z.core.$ZodRawIssue;

/** `a string`, `an object`, `an integer`, … for a zod type name. */
function withArticle(type: string): string {
  if (type === 'int') return 'an integer';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** `true`, `admin`, `one of admin, viewer, client`: the accepted values of an enum or literal. */
function acceptedValues(values: readonly unknown[]): string {
  const shown = values.map((v) => (typeof v === 'string' ? v : String(v)));
  return shown.length === 1 ? shown[0]! : `one of ${shown.join(', ')}`;
}

/** `at least 16 characters`, `at most 10 entries`, `greater than 0`: the bound a size issue names. */
function sizeBound(issue: Extract<RawIssue, { code: 'too_small' | 'too_big' }>): string {
  const small = issue.code === 'too_small';
  const limit = String(small ? issue.minimum : issue.maximum);
  const bound = `${small ? 'at least' : 'at most'} ${limit}`;
  if (issue.origin === 'string') return `${bound} character${limit === '1' ? '' : 's'}`;
  if (issue.origin === 'array' || issue.origin === 'set') return `${bound} ${limit === '1' ? 'entry' : 'entries'}`;
  return issue.inclusive === false ? `${small ? 'greater' : 'less'} than ${limit}` : bound;
}

/**
 * What a union accepts, from the forms its branches expected at the top (`must be false, a
 * function, or an object`); undefined when a branch does not say, leaving zod's message.
 */
function describeUnion(branches: readonly (readonly z.core.$ZodIssue[])[]): string | undefined {
  const forms = branches.map((issues) => /^must be (.+)$/.exec(issues.find((i) => i.path.length === 0)?.message ?? '')?.[1]);
  if (forms.length === 0 || forms.some((form) => form === undefined)) return undefined;
  const last = forms.pop()!;
  return `must be ${forms.length === 0 ? last : `${forms.join(', ')}, or ${last}`}`;
}

/** Phrases an issue for an options message; undefined leaves a schema's own message or zod's. */
function describeIssue(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${withArticle(issue.expected)}`;
    case 'invalid_value':
      return `must be ${acceptedValues(issue.values)}`;
    case 'too_small':
    case 'too_big':
      return `must ${issue.origin === 'array' || issue.origin === 'set' ? 'have' : 'be'} ${sizeBound(issue)}`;
    case 'unrecognized_keys':
      return `unknown option${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_union':
      return describeUnion(issue.errors);
    default:
      return undefined;
  }
}

/** True when an issue says the value is not of the form at all (rather than wrong inside it). */
function isFormMismatch(issue: z.core.$ZodIssue): boolean {
  return issue.path.length === 0 && ['invalid_type', 'invalid_value', 'custom', 'invalid_union'].includes(issue.code);
}

/**
 * A union of option forms (`false`, a function, an object …) whose errors point inside the form
 * the value is of: a value that fails every form gets the issues of the one form it has the
 * shape of (`keys.0.role: must be one of admin, viewer, client, node`), and a value of no accepted
 * form gets `message`, which says what is accepted. Works under any zod parse, not only
 * {@link parseOptions}.
 *
 * @example
 * const auth = optionUnion('must be { keys: [...] }, a function, or false', [z.literal(false), keyListSchema]);
 */
export function optionUnion<const T extends readonly [z.ZodType, ...z.ZodType[]]>(
  message: string,
  forms: T,
): z.ZodType<z.output<T[number]>, unknown> {
  return z.unknown().transform((value, ctx) => {
    const failures: z.core.$ZodIssue[][] = [];
    for (const form of forms) {
      const result = form.safeParse(value, { error: describeIssue });
      if (result.success) return result.data as z.output<T[number]>;
      failures.push(result.error.issues);
    }
    const shaped = failures.filter((issues) => !issues.some(isFormMismatch));
    if (shaped.length !== 1) ctx.addIssue({ code: 'custom', message });
    else for (const issue of shaped[0]!) ctx.addIssue({ ...issue });
    return z.NEVER;
  });
}

/**
 * Parses an options object with `schema`, throwing `invalid_request` on failure. The message
 * names each bad option by its dotted path and says what it must be (`prefix: must be a path
 * such as "/llm"`, `unknown option "prefx"`); `details` lists the same issues. `what` names the
 * options in the message, e.g. `"handler options"`.
 *
 * @example
 * const { prefix } = parseOptions(handlerOptionsSchema, options, 'handler options');
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value, { error: describeIssue });
  if (result.success) return result.data;
  const details: ValidationIssue[] = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const summary = details.map((d) => (d.path === '' ? d.message : `${d.path}: ${d.message}`)).join('; ');
  throw new LlmlbError('invalid_request', `invalid ${what}: ${summary}`, { details });
}
