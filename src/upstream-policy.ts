/**
 * Opt-in restriction of which hosts may be registered as upstreams (the `upstreams` option of
 * `createRouter`): an allow list and a deny list of host names, `*.` wildcards, IP addresses
 * and CIDR ranges. Checked when an endpoint is registered. Without the option every http(s)
 * host is accepted: admins are trusted to register what they mean to.
 */
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

/** Host patterns: `gpu-1.internal`, `*.internal`, `10.0.0.5`, `10.0.0.0/8`, `fd00::/8`. */
export interface UpstreamPolicyOptions {
  /** When given, only hosts matching one of these may be registered. */
  allow?: readonly string[];
  /** Hosts matching one of these may never be registered (checked after `allow`). */
  deny?: readonly string[];
}

const patternSchema = z
  .string()
  .min(1)
  .max(253)
  .refine((p) => isPattern(p), 'must be a host name, *.domain, an IP address or a CIDR range');
/** Validates {@link UpstreamPolicyOptions}. */
export const upstreamPolicyOptionsSchema = z.strictObject({
  allow: z.array(patternSchema).optional(),
  deny: z.array(patternSchema).optional(),
});

function isPattern(pattern: string): boolean {
  const slash = pattern.indexOf('/');
  if (slash !== -1) {
    const bits = Number(pattern.slice(slash + 1));
    const family = isIP(pattern.slice(0, slash));
    return family !== 0 && Number.isInteger(bits) && bits >= 0 && bits <= (family === 4 ? 32 : 128);
  }
  return isIP(pattern) !== 0 || /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(pattern);
}

/** One compiled list of patterns. */
class HostList {
  readonly #names = new Set<string>();
  readonly #suffixes: string[] = [];
  readonly #ips = new BlockList();

  constructor(patterns: readonly string[]) {
    for (const raw of patterns) {
      const pattern = raw.toLowerCase();
      const slash = pattern.indexOf('/');
      if (slash !== -1) {
        const address = pattern.slice(0, slash);
        this.#ips.addSubnet(address, Number(pattern.slice(slash + 1)), isIP(address) === 4 ? 'ipv4' : 'ipv6');
      } else if (isIP(pattern) !== 0) {
        this.#ips.addAddress(pattern, isIP(pattern) === 4 ? 'ipv4' : 'ipv6');
      } else if (pattern.startsWith('*.')) {
        this.#suffixes.push(pattern.slice(1));
      } else {
        this.#names.add(pattern);
      }
    }
  }

  matches(host: string): boolean {
    const family = isIP(host);
    if (family !== 0) return this.#ips.check(host, family === 4 ? 'ipv4' : 'ipv6');
    return this.#names.has(host) || this.#suffixes.some((suffix) => host.endsWith(suffix));
  }
}

/** Returns why a base URL is refused, or null when it may be registered. */
export type UpstreamPolicy = (baseUrl: string) => string | null;

/**
 * Compiles the policy. Host names are compared as written (no DNS lookup): deny internal
 * address ranges by IP, and name the allowed hosts explicitly when that matters.
 *
 * @example
 * const policy = createUpstreamPolicy({ allow: ['*.gpu.internal', '10.0.0.0/8'], deny: ['169.254.0.0/16'] });
 * policy('http://a.gpu.internal:11434'); // null (allowed)
 */
export function createUpstreamPolicy(options: UpstreamPolicyOptions = {}): UpstreamPolicy {
  const allow = options.allow ? new HostList(options.allow) : null;
  const deny = options.deny ? new HostList(options.deny) : null;
  return (baseUrl) => {
    const host = new URL(baseUrl).hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
    if (allow && !allow.matches(host)) return `host ${host} is not in the allowed upstream hosts`;
    if (deny?.matches(host)) return `host ${host} is in the denied upstream hosts`;
    return null;
  };
}
