import { describe, expect, it } from 'vitest';
import { LlmlbError } from '../../src/errors.js';
import { type JsonLoggerOptions, LOG_LEVEL_VALUES, createJsonLogger } from '../../src/json-logger.js';

function capture(options: Omit<JsonLoggerOptions, 'write' | 'now'> = {}) {
  const lines: string[] = [];
  const logger = createJsonLogger({ ...options, now: () => 1_700_000_000_000, write: (line) => void lines.push(line) });
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

describe('createJsonLogger', () => {
  it('writes pino-shaped JSON lines with numeric levels', () => {
    const { logger, lines, records } = capture({ level: 'debug' });
    logger.debug('d');
    logger.info({ endpoint_id: 'e1', latency_ms: 12 }, 'endpoint online');
    logger.warn({ n: 1 });
    logger.error('e');
    expect(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
    expect(records()).toEqual([
      { level: 20, time: 1_700_000_000_000, msg: 'd' },
      { level: 30, time: 1_700_000_000_000, msg: 'endpoint online', endpoint_id: 'e1', latency_ms: 12 },
      { level: 40, time: 1_700_000_000_000, n: 1 },
      { level: 50, time: 1_700_000_000_000, msg: 'e' },
    ]);
    expect(lines[1]!.startsWith('{"level":30,"time":1700000000000,"msg":"endpoint online"')).toBe(true);
    expect(LOG_LEVEL_VALUES).toEqual({ debug: 20, info: 30, warn: 40, error: 50 });
  });

  it('drops calls below the level (default info)', () => {
    const { logger, records } = capture();
    logger.debug('hidden');
    logger.info('shown');
    expect(records().map((r) => r.msg)).toEqual(['shown']);
    const warn = capture({ level: 'warn' });
    warn.logger.info('hidden');
    warn.logger.warn('w');
    warn.logger.error('e');
    expect(warn.records().map((r) => r.level)).toEqual([40, 50]);
  });

  it('serialises errors as {type, message, code} without a stack, with one at debug', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const err = new LlmlbError('endpoint_offline', 'endpoint did not answer', { cause });
    const info = capture();
    info.logger.error({ err, endpoint_id: 'e1' }, 'sync failed');
    expect(info.records()[0]).toEqual({
      level: 50,
      time: 1_700_000_000_000,
      msg: 'sync failed',
      endpoint_id: 'e1',
      err: {
        type: 'LlmlbError',
        message: 'endpoint did not answer',
        code: 'endpoint_offline',
        cause: { type: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:1', code: 'ECONNREFUSED' },
      },
    });
    expect(info.lines[0]).not.toContain('stack');

    const debug = capture({ level: 'debug' });
    debug.logger.error({ err: new TypeError('boom') }, 'failed');
    const logged = debug.records()[0]!.err as Record<string, unknown>;
    expect(logged).toMatchObject({ type: 'TypeError', message: 'boom' });
    expect(String(logged.stack)).toContain('TypeError: boom');
  });

  it('accepts an Error as the first argument, like pino', () => {
    const { logger, records } = capture();
    logger.error(new RangeError('out of range') as never);
    expect(records()[0]).toMatchObject({ msg: 'out of range', err: { type: 'RangeError', message: 'out of range' } });
  });

  it('redacts fields that hold credentials, at any depth', () => {
    const { logger, lines, records } = capture();
    logger.info(
      {
        api_key: 'sk-upstream-1',
        headers: { Authorization: 'Bearer sk-client-2', 'content-type': 'application/json' },
        config: { secret: 'top-secret-3', keys: ['k4'], port: 1 },
      },
      'request',
    );
    expect(lines[0]).not.toMatch(/sk-upstream-1|sk-client-2|top-secret-3|k4/);
    expect(records()[0]).toMatchObject({
      api_key: '[Redacted]',
      headers: { Authorization: '[Redacted]', 'content-type': 'application/json' },
      config: { secret: '[Redacted]', keys: '[Redacted]', port: 1 },
    });
  });

  it('survives cycles, bigints, dates, buffers and undefined, and never lets level/time be overwritten', () => {
    const { logger, records } = capture();
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    logger.info(
      { cyclic, big: 10n, at: new Date(0), buf: Buffer.from('abc'), gone: undefined, fn: () => 1, level: 99, time: 0 },
      'odd',
    );
    expect(records()[0]).toEqual({
      level: 30,
      time: 1_700_000_000_000,
      msg: 'odd',
      cyclic: { name: 'a', self: '[Circular]' },
      big: '10',
      at: '1970-01-01T00:00:00.000Z',
      buf: '[Buffer 3 bytes]',
    });
  });

  it('never throws, even when the destination does', () => {
    const logger = createJsonLogger({
      write: () => {
        throw new Error('EPIPE');
      },
    });
    expect(() => logger.info('x')).not.toThrow();
  });
});
