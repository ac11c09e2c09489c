/** The CLI's routing flags and environment variables: defaults, values, precedence and errors. */
import { describe, expect, it } from 'vitest';
import { type ServeCommand, parseCliConfig } from '../../src/cli/config.js';
import { CliUsageError } from '../../src/cli/usage-error.js';

const ENV = { LLMLB_ADMIN_KEY: 'a-very-long-admin-key-0123' };
const routing = (args: string[], env: Record<string, string> = {}) =>
  (parseCliConfig(['serve', '--memory', ...args], { ...ENV, ...env }) as ServeCommand).config.routing;

describe('routing flags', () => {
  it('defaults to the load-aware selector, a 1000-request queue of 30 s, no affinity', () => {
    expect(routing([])).toEqual({ selector: 'expected-latency', queueLength: 1000, queueTimeoutMs: 30_000, affinity: false });
  });

  it('reads flags, and environment variables when no flag is given', () => {
    expect(routing(['--selector', 'least-busy', '--queue-length', '0', '--queue-timeout-ms', '500', '--affinity-header', 'x-session-id'])).toEqual({
      selector: 'least-busy',
      queueLength: 0,
      queueTimeoutMs: 500,
      affinity: { header: 'x-session-id' },
    });
    expect(routing(['--selector', 'latency'], { LLMLB_SELECTOR: 'round-robin', LLMLB_AFFINITY_BODY_FIELD: 'user' })).toMatchObject({
      selector: 'latency',
      affinity: { bodyField: 'user' },
    });
  });

  it('refuses unknown selectors and bad numbers with a message naming the source', () => {
    expect(() => routing(['--selector', 'fastest'])).toThrow(CliUsageError);
    expect(() => routing(['--selector', 'fastest'])).toThrow(/--selector "fastest": must be one of expected-latency, latency, least-busy, round-robin/);
    expect(() => routing([], { LLMLB_QUEUE_TIMEOUT_MS: '0' })).toThrow(/LLMLB_QUEUE_TIMEOUT_MS "0"/);
    expect(() => routing(['--queue-length', '-1'])).toThrow(/--queue-length/);
    expect(() => routing(['--affinity-header', 'bad header'])).toThrow(/must be an HTTP header name/);
  });
});
