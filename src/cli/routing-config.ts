/**
 * The CLI's routing settings: which selector, the admission queue's length and wait, and where
 * session affinity reads a session key. Per-endpoint caps, priorities and weights come through
 * the admin API.
 */
import { z } from 'zod';
import { type CliEnv, pick, validate } from './sources.js';

/** The selectors the CLI offers, by name. */
export const SELECTOR_NAMES = ['expected-latency', 'latency', 'least-busy', 'round-robin'] as const;
/** A selector name. */
export type SelectorName = (typeof SELECTOR_NAMES)[number];

/**
 * Routing settings of `llmlb serve`.
 *
 * @example
 * const routing: RoutingConfig = { selector: 'expected-latency', queueLength: 1000, queueTimeoutMs: 30000, affinity: false };
 */
export interface RoutingConfig {
  readonly selector: SelectorName;
  readonly queueLength: number;
  readonly queueTimeoutMs: number;
  /** Where a session key is read, or false (no affinity). */
  readonly affinity: { readonly header?: string; readonly bodyField?: string } | false;
}

/** The flags of {@link RoutingConfig}, for `parseArgs`. */
export const ROUTING_OPTIONS = {
  selector: { type: 'string' },
  'queue-length': { type: 'string' },
  'queue-timeout-ms': { type: 'string' },
  'affinity-header': { type: 'string' },
  'affinity-body-field': { type: 'string' },
} as const;

/** Their lines in the `--help` text. */
export const ROUTING_USAGE = `  --selector <name>     ${SELECTOR_NAMES.join(', ')}
                                                      env LLMLB_SELECTOR          default expected-latency
  --queue-length <n>    Requests that may wait for a free slot when every endpoint is at its cap
                                                      env LLMLB_QUEUE_LENGTH      default 1000
  --queue-timeout-ms <ms>
                        Longest wait for a free slot      env LLMLB_QUEUE_TIMEOUT_MS  default 30000
  --affinity-header <h> Session affinity: keep a session (this request header) on its endpoint
                                                      env LLMLB_AFFINITY_HEADER   e.g. x-session-id
  --affinity-body-field <f>
                        Session affinity by a top-level body field (e.g. user)
                                                      env LLMLB_AFFINITY_BODY_FIELD
`;

const countSchema = (max: number) => z.string().regex(/^\d{1,9}$/).transform(Number).pipe(z.number().int().min(0).max(max));
const nameSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

type RoutingValues = { [K in keyof typeof ROUTING_OPTIONS]?: string };

/**
 * Reads the routing flags and environment variables.
 *
 * @example
 * parseRoutingConfig({ selector: 'least-busy' }, {}).selector; // 'least-busy'
 */
export function parseRoutingConfig(values: RoutingValues, env: CliEnv): RoutingConfig {
  const selectorSource = pick(values.selector, 'selector', env, 'LLMLB_SELECTOR');
  const lengthSource = pick(values['queue-length'], 'queue-length', env, 'LLMLB_QUEUE_LENGTH');
  const timeoutSource = pick(values['queue-timeout-ms'], 'queue-timeout-ms', env, 'LLMLB_QUEUE_TIMEOUT_MS');
  const headerSource = pick(values['affinity-header'], 'affinity-header', env, 'LLMLB_AFFINITY_HEADER');
  const fieldSource = pick(values['affinity-body-field'], 'affinity-body-field', env, 'LLMLB_AFFINITY_BODY_FIELD');
  const header = headerSource && validate(nameSchema, headerSource, 'must be an HTTP header name');
  const bodyField = fieldSource && validate(nameSchema, fieldSource, 'must be a field name (letters, digits, _ and -)');
  return {
    selector: selectorSource ? validate(z.enum(SELECTOR_NAMES), selectorSource, `must be one of ${SELECTOR_NAMES.join(', ')}`) : 'expected-latency',
    queueLength: lengthSource ? validate(countSchema(1_000_000), lengthSource, 'must be an integer from 0 to 1000000') : 1000,
    queueTimeoutMs: timeoutSource ? validate(countSchema(3_600_000).pipe(z.number().min(1)), timeoutSource, 'must be an integer from 1 to 3600000') : 30_000,
    affinity: header || bodyField ? { ...(header ? { header } : {}), ...(bodyField ? { bodyField } : {}) } : false,
  };
}
