/**
 * The CLI's observability settings: where metrics are served (path, own port, key or not), the
 * dashboard, and what `/readyz` requires. `/healthz` and `/readyz` are always served.
 */
import { z } from 'zod';
import { type CliEnv, pick, validate } from './sources.js';

/**
 * Metrics, health and dashboard settings of `llmlb serve`.
 *
 * @example
 * const observe: ObserveConfig = { metrics: { path: '/metrics', port: null, public: false }, dashboard: true, readyRequiresEndpoint: false };
 */
export interface ObserveConfig {
  /** Where metrics are served; null when turned off (`--metrics-path off`). */
  readonly metrics: { readonly path: string; readonly port: number | null; readonly public: boolean } | null;
  /** Serve the dashboard at `/dashboard/`. */
  readonly dashboard: boolean;
  /** `/readyz` also needs an online, enabled endpoint. */
  readonly readyRequiresEndpoint: boolean;
}

/** The flags of {@link ObserveConfig}, for `parseArgs`. */
export const OBSERVE_OPTIONS = {
  'metrics-path': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-public': { type: 'boolean' },
  'no-dashboard': { type: 'boolean' },
  'ready-requires-endpoint': { type: 'boolean' },
} as const;

/** Their lines in the `--help` text. */
export const OBSERVE_USAGE = `  --metrics-path <path> Prometheus metrics path, or "off"
                                                      env LLMLB_METRICS_PATH      default /metrics
  --metrics-port <port> Serve metrics, /healthz and /readyz on their own port instead
                                                      env LLMLB_METRICS_PORT
  --metrics-public      Scraping needs no key (default: an admin or viewer key)
                                                      env LLMLB_METRICS_PUBLIC=true
  --no-dashboard        Do not serve the web dashboard at /dashboard/
                                                      env LLMLB_DASHBOARD=off
  --ready-requires-endpoint
                        /readyz answers 503 until an enabled endpoint is online
                                                      env LLMLB_READY_REQUIRES_ENDPOINT=true
`;

const pathSchema = z
  .string()
  .regex(/^\/[\w.-]+(\/[\w.-]+)*$/)
  .refine((p) => !/^\/(v0|v1|rerank|dashboard|healthz|readyz)(\/|$)/.test(p));
const portSchema = z
  .string()
  .regex(/^\d{1,5}$/)
  .transform(Number)
  .pipe(z.number().int().min(0).max(65_535));
const switchSchema = z.enum(['true', 'false', '1', '0', 'on', 'off']).transform((v) => v === 'true' || v === '1' || v === 'on');

/** A boolean environment variable, else `fallback`; a flag that is present wins with `true`. */
function flag(value: boolean | undefined, env: CliEnv, envName: string, fallback: boolean): boolean {
  if (value === true) return true;
  const source = pick(undefined, '', env, envName);
  return source ? validate(switchSchema, source, 'must be true or false') : fallback;
}

type ObserveValues = { [K in keyof typeof OBSERVE_OPTIONS]?: (typeof OBSERVE_OPTIONS)[K]['type'] extends 'string' ? string : boolean };

/**
 * Reads the observability flags and environment variables.
 *
 * @example
 * parseObserveConfig({ 'metrics-public': true }, {}).metrics?.public; // true
 */
export function parseObserveConfig(values: ObserveValues, env: CliEnv): ObserveConfig {
  const pathSource = pick(values['metrics-path'], 'metrics-path', env, 'LLMLB_METRICS_PATH');
  const off = pathSource?.raw === 'off';
  const path = pathSource && !off ? validate(pathSchema, pathSource, 'must be a path such as /metrics, outside /v0, /v1, /rerank, /dashboard, /healthz and /readyz, or "off"') : '/metrics';
  const portSource = pick(values['metrics-port'], 'metrics-port', env, 'LLMLB_METRICS_PORT');
  const port = portSource ? validate(portSchema, portSource, 'must be an integer from 0 to 65535') : null;
  const dashboard = values['no-dashboard'] === true ? false : flag(undefined, env, 'LLMLB_DASHBOARD', true);
  return {
    metrics: off ? null : { path, port, public: flag(values['metrics-public'], env, 'LLMLB_METRICS_PUBLIC', false) },
    dashboard,
    readyRequiresEndpoint: flag(values['ready-requires-endpoint'], env, 'LLMLB_READY_REQUIRES_ENDPOINT', false),
  };
}
