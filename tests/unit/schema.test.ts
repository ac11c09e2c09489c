import { describe, expect, it } from 'vitest';
import { LlmlbError } from '../../src/errors.js';
import {
  createEndpointInputSchema,
  listEndpointsFilterSchema,
  normalizeBaseUrl,
  parseOrThrow,
  toPublicEndpoint,
  updateEndpointInputSchema,
  type EndpointRecord,
} from '../../src/schema.js';

const valid = { name: 'gpu-1', base_url: 'http://127.0.0.1:11434' };

function rejectCreate(input: unknown): LlmlbError {
  try {
    parseOrThrow(createEndpointInputSchema, input, 'endpoint');
  } catch (err) {
    expect(err).toBeInstanceOf(LlmlbError);
    return err as LlmlbError;
  }
  throw new Error('expected the input to be rejected');
}

describe('create input', () => {
  it('applies defaults', () => {
    expect(parseOrThrow(createEndpointInputSchema, valid, 'endpoint')).toEqual({
      name: 'gpu-1',
      base_url: 'http://127.0.0.1:11434',
      health_check_interval_secs: 30,
      inference_timeout_secs: 120,
      admin_state: 'enabled',
      max_concurrency: null,
      priority: 0,
      weight: 1,
      models: null,
    });
  });

  it('accepts an admin state and refuses an unknown one', () => {
    expect(parseOrThrow(createEndpointInputSchema, { ...valid, admin_state: 'disabled' }, 'endpoint').admin_state).toBe('disabled');
    expect(rejectCreate({ ...valid, admin_state: 'paused' }).details?.[0]?.path).toBe('admin_state');
  });

  it('trims the name', () => {
    expect(parseOrThrow(createEndpointInputSchema, { ...valid, name: '  gpu-1 ' }, 'endpoint').name).toBe('gpu-1');
  });

  it('accepts boundary values', () => {
    const data = parseOrThrow(
      createEndpointInputSchema,
      { ...valid, name: 'x'.repeat(100), health_check_interval_secs: 10, inference_timeout_secs: 600, notes: 'n'.repeat(2000) },
      'endpoint',
    );
    expect(data.health_check_interval_secs).toBe(10);
    expect(data.inference_timeout_secs).toBe(600);
    expect(parseOrThrow(createEndpointInputSchema, { ...valid, health_check_interval_secs: 300, inference_timeout_secs: 10 }, 'endpoint'))
      .toMatchObject({ health_check_interval_secs: 300, inference_timeout_secs: 10 });
  });

  const rejected: Array<[string, unknown, string]> = [
    ['missing name', { base_url: valid.base_url }, 'name'],
    ['missing base_url', { name: 'a' }, 'base_url'],
    ['empty name', { ...valid, name: '' }, 'name'],
    ['whitespace-only name', { ...valid, name: '   \t ' }, 'name'],
    ['name over 100 chars', { ...valid, name: 'x'.repeat(101) }, 'name'],
    ['name with a control character', { ...valid, name: 'gpu\n1' }, 'name'],
    ['name not a string', { ...valid, name: 42 }, 'name'],
    ['base_url not a URL', { ...valid, base_url: 'not a url' }, 'base_url'],
    ['base_url relative', { ...valid, base_url: '/v1' }, 'base_url'],
    ['base_url ftp', { ...valid, base_url: 'ftp://host' }, 'base_url'],
    ['base_url javascript:', { ...valid, base_url: 'javascript:alert(1)' }, 'base_url'],
    ['base_url file:', { ...valid, base_url: 'file:///etc/passwd' }, 'base_url'],
    ['base_url with credentials', { ...valid, base_url: 'http://user:pw@host' }, 'base_url'],
    ['base_url with a query', { ...valid, base_url: 'http://host/?a=1' }, 'base_url'],
    ['base_url with a fragment', { ...valid, base_url: 'http://host/#x' }, 'base_url'],
    ['base_url with a port out of range', { ...valid, base_url: 'http://host:70000' }, 'base_url'],
    ['base_url too long', { ...valid, base_url: `http://host/${'a'.repeat(2100)}` }, 'base_url'],
    ['interval below 10', { ...valid, health_check_interval_secs: 9 }, 'health_check_interval_secs'],
    ['interval above 300', { ...valid, health_check_interval_secs: 301 }, 'health_check_interval_secs'],
    ['interval not an integer', { ...valid, health_check_interval_secs: 30.5 }, 'health_check_interval_secs'],
    ['interval as a string', { ...valid, health_check_interval_secs: '30' }, 'health_check_interval_secs'],
    ['timeout below 10', { ...valid, inference_timeout_secs: 9 }, 'inference_timeout_secs'],
    ['timeout above 600', { ...valid, inference_timeout_secs: 601 }, 'inference_timeout_secs'],
    ['notes over 2000 chars', { ...valid, notes: 'n'.repeat(2001) }, 'notes'],
    ['api_key empty', { ...valid, api_key: '' }, 'api_key'],
    ['api_key with a newline', { ...valid, api_key: 'sk-1\r\nX-Evil: 1' }, 'api_key'],
    ['api_key with a space', { ...valid, api_key: 'sk 1' }, 'api_key'],
    ['unknown field', { ...valid, status: 'online' }, 'status'],
  ];
  it.each(rejected)('rejects %s', (_label, input, path) => {
    const err = rejectCreate(input);
    expect(err.code).toBe('validation_error');
    expect(err.details?.map((d) => d.path)).toContain(path);
  });

  it('rejects non-objects', () => {
    for (const input of [null, 'x', 1, [], true]) expect(rejectCreate(input).code).toBe('validation_error');
  });

  it('never echoes an api_key in its messages', () => {
    const err = rejectCreate({ ...valid, api_key: 'sk secret-value' });
    expect(err.message).not.toContain('secret-value');
    expect(JSON.stringify(err.details)).not.toContain('secret-value');
  });
});

describe('normalizeBaseUrl', () => {
  it.each([
    ['http://127.0.0.1:11434/', 'http://127.0.0.1:11434'],
    ['http://127.0.0.1:11434/v1', 'http://127.0.0.1:11434'],
    ['http://127.0.0.1:11434/v1/', 'http://127.0.0.1:11434'],
    ['https://API.example.com:443/openai/v1', 'https://api.example.com/openai'],
    ['http://[::1]:8000', 'http://[::1]:8000'],
    ['  http://host:80/base//  ', 'http://host/base'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeBaseUrl(input)).toEqual({ ok: true, url: expected });
  });
});

describe('update input', () => {
  it('accepts nulls for api_key and notes', () => {
    expect(parseOrThrow(updateEndpointInputSchema, { api_key: null, notes: null }, 'u')).toEqual({ api_key: null, notes: null });
  });

  it('accepts an empty update', () => {
    expect(parseOrThrow(updateEndpointInputSchema, {}, 'u')).toEqual({});
  });

  it.each([
    ['base_url', { base_url: 'http://other' }],
    ['base_url', { base_url: null }],
    ['name', { name: null }],
    ['name', { name: ' ' }],
    ['health_check_interval_secs', { health_check_interval_secs: null }],
    ['inference_timeout_secs', { inference_timeout_secs: 5 }],
    ['id', { id: 'x' }],
  ])('rejects a bad %s', (path, input) => {
    try {
      parseOrThrow(updateEndpointInputSchema, input, 'u');
      expect.unreachable();
    } catch (err) {
      expect((err as LlmlbError).details?.map((d) => d.path)).toContain(path);
    }
  });

  it('says base_url cannot be changed', () => {
    expect(() => parseOrThrow(updateEndpointInputSchema, { base_url: 'http://x' }, 'u')).toThrow(/cannot be changed/);
  });
});

describe('list filter', () => {
  it('accepts each status and rejects others', () => {
    for (const status of ['pending', 'online', 'offline', 'error']) {
      expect(parseOrThrow(listEndpointsFilterSchema, { status }, 'f')).toEqual({ status });
    }
    expect(() => parseOrThrow(listEndpointsFilterSchema, { status: 'up' }, 'f')).toThrow(LlmlbError);
    expect(() => parseOrThrow(listEndpointsFilterSchema, { sort: 'name' }, 'f')).toThrow(LlmlbError);
  });
});

describe('toPublicEndpoint', () => {
  it('drops the credential and says whether one is set', () => {
    const record = { id: 'i', name: 'n', api_key_encrypted: 'v1:a:b:c' } as EndpointRecord;
    const pub = toPublicEndpoint(record);
    expect(pub).not.toHaveProperty('api_key_encrypted');
    expect(pub).not.toHaveProperty('api_key');
    expect(pub.has_api_key).toBe(true);
    expect(toPublicEndpoint({ ...record, api_key_encrypted: null }).has_api_key).toBe(false);
  });
});
