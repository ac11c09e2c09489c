/**
 * Command-line parsing of `llmlb agent`: flags and `LLMLB_*` environment variables, validated.
 * Pure, like `config.ts`; no message ever repeats the registration token.
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { RUNTIME_TYPES, type RuntimeType } from '../nodes/schema.js';
import { LOG_LEVELS, type LogLevel } from './log.js';
import { type CliEnv, pick, validate } from './sources.js';
import { CliUsageError, argsError } from './usage-error.js';

/**
 * Everything `llmlb agent` needs, validated.
 *
 * @example
 * const config: AgentConfig = parseAgentConfig(['--router', 'http://10.0.0.1:32768', '--base-url', 'http://127.0.0.1:11434'], { LLMLB_NODE_REGISTRATION_TOKEN: token });
 */
export interface AgentConfig {
  /** The llmlb router's base URL (no trailing slash). */
  readonly router: string;
  /** The registration token: a key of role `node`. */
  readonly token: string;
  /** The local inference server's base URL, as the router should reach it. */
  readonly baseUrl: string;
  /** The endpoint's name (default: the host name). */
  readonly name: string;
  /** The runtime, or null to detect it (Ollama's `/api/version`, else `openai-compatible`). */
  readonly runtime: RuntimeType | null;
  readonly runtimeVersion: string | null;
  readonly labels: Readonly<Record<string, string>>;
  /** Seconds between heartbeats once approved. */
  readonly intervalSecs: number;
  readonly logLevel: LogLevel;
  /** The `nvidia-smi` to run for GPU facts (`LLMLB_NVIDIA_SMI`; default found on PATH). */
  readonly nvidiaSmi: string;
}

/** Defaults of `llmlb agent`. */
export const AGENT_DEFAULTS = Object.freeze({ intervalSecs: 15, logLevel: 'info' as LogLevel, nvidiaSmi: 'nvidia-smi' });

const OPTIONS = {
  router: { type: 'string' },
  token: { type: 'string' },
  'base-url': { type: 'string' },
  name: { type: 'string' },
  runtime: { type: 'string' },
  'runtime-version': { type: 'string' },
  label: { type: 'string', multiple: true },
  interval: { type: 'string' },
  'log-level': { type: 'string' },
} as const;

/** The agent's lines in the `--help` text. */
export const AGENT_USAGE = `Options of agent (registers a local inference server with a router, then sends heartbeats):
  --router <url>        The llmlb router's URL               env LLMLB_ROUTER_URL
  --token <token>       Registration token (a key of role node) env LLMLB_NODE_REGISTRATION_TOKEN
                        (prefer the variable: command lines are visible to other users)
  --base-url <url>      The local server as the router reaches it, e.g. http://10.0.0.7:11434
                                                             env LLMLB_AGENT_BASE_URL
  --name <name>         The endpoint's name                  default the host name
  --runtime <type>      ${RUNTIME_TYPES.join(', ')}
                                                             default detected
  --runtime-version <v> The runtime's version                default detected (Ollama)
  --label <key=value>   A label (repeatable)
  --interval <secs>     Seconds between heartbeats, 1-3600   env LLMLB_AGENT_INTERVAL  default ${AGENT_DEFAULTS.intervalSecs}
  --log-level <level>   debug, info, warn or error           env LLMLB_LOG_LEVEL       default info
  GPU facts come from nvidia-smi when it is installed (LLMLB_NVIDIA_SMI names another path).
`;

const urlSchema = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  })
  .transform((value) => value.replace(/\/+$/, ''));
const intervalSchema = z
  .string()
  .regex(/^\d{1,4}$/)
  .transform(Number)
  .pipe(z.number().int().min(1).max(3600));
const labelSchema = z.string().regex(/^[A-Za-z0-9_./-]{1,63}=[^\u0000-\u001f]{1,256}$/);

/** Reads one required URL setting. */
function requiredUrl(flag: string | undefined, flagName: string, env: CliEnv, envName: string): string {
  const source = pick(flag, flagName, env, envName);
  if (!source) throw new CliUsageError(`agent: --${flagName} (or ${envName}) is required`);
  return validate(urlSchema, source, 'must be an http(s) URL without credentials');
}

/** The registration token; its value never appears in a message. */
function token(flag: string | undefined, env: CliEnv): string {
  const source = pick(flag, 'token', env, 'LLMLB_NODE_REGISTRATION_TOKEN');
  if (!source) throw new CliUsageError('agent: --token (or LLMLB_NODE_REGISTRATION_TOKEN) is required');
  if (!/^[\x21-\x7e]{16,4096}$/.test(source.raw)) {
    throw new CliUsageError(`agent: ${source.label}: the token must be 16-4096 printable ASCII characters without spaces`);
  }
  return source.raw;
}

/**
 * Parses the arguments after `agent` (and the environment).
 *
 * @throws CliUsageError with a one-line message (exit code 2).
 */
export function parseAgentConfig(argv: readonly string[], env: CliEnv): AgentConfig {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: false, strict: true });
  } catch (err) {
    throw argsError(err);
  }
  const values = parsed.values;
  const runtime = values.runtime === undefined ? null : validate(z.enum(RUNTIME_TYPES), { label: '--runtime', raw: values.runtime }, `must be one of ${RUNTIME_TYPES.join(', ')}`);
  const labels: Record<string, string> = {};
  for (const raw of values.label ?? []) {
    const label = validate(labelSchema, { label: '--label', raw }, 'must be key=value (key: 1-63 letters, digits, _ . / -)');
    const at = label.indexOf('=');
    labels[label.slice(0, at)] = label.slice(at + 1);
  }
  const interval = pick(values.interval, 'interval', env, 'LLMLB_AGENT_INTERVAL');
  const level = pick(values['log-level'], 'log-level', env, 'LLMLB_LOG_LEVEL');
  const name = (values.name ?? hostname()).trim();
  if (name === '' || name.length > 100) throw new CliUsageError('agent: --name must be 1-100 characters');
  return Object.freeze({
    router: requiredUrl(values.router, 'router', env, 'LLMLB_ROUTER_URL'),
    token: token(values.token, env),
    baseUrl: requiredUrl(values['base-url'], 'base-url', env, 'LLMLB_AGENT_BASE_URL'),
    name,
    runtime,
    runtimeVersion: values['runtime-version']?.trim() || null,
    labels: Object.freeze(labels),
    intervalSecs: interval ? validate(intervalSchema, interval, 'must be an integer number of seconds from 1 to 3600') : AGENT_DEFAULTS.intervalSecs,
    logLevel: level ? validate(z.enum(LOG_LEVELS), level, `must be one of ${LOG_LEVELS.join(', ')}`) : AGENT_DEFAULTS.logLevel,
    nvidiaSmi: env.LLMLB_NVIDIA_SMI?.trim() || AGENT_DEFAULTS.nvidiaSmi,
  });
}
