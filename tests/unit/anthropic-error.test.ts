/** Anthropic's error shape: the type for each status, the JSON body and the stream's error event. */
import { describe, expect, it } from 'vitest';
import { type ErrorCode, HTTP_STATUS_BY_CODE, LlmlbError } from '../../src/errors.js';
import { anthropicErrorBody, anthropicErrorEvent } from '../../src/proxy/anthropic-error.js';

/** The type Anthropic's API gives each status llmlb answers with. */
const EXPECTED: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  409: 'invalid_request_error',
  413: 'request_too_large',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
  500: 'api_error',
  502: 'api_error',
  503: 'overloaded_error',
  504: 'timeout_error',
};

describe('anthropicErrorBody', () => {
  it.each(Object.entries(HTTP_STATUS_BY_CODE) as Array<[ErrorCode, number]>)('%s (%i) has its status’s type', (code, status) => {
    expect(anthropicErrorBody(new LlmlbError(code, `message of ${code}`))).toEqual({
      type: 'error',
      error: { type: EXPECTED[status], message: `message of ${code}` },
    });
  });

  it('ends a broken stream with an `event: error` frame carrying the same body', () => {
    const error = new LlmlbError('upstream_error', 'endpoint gpu-1 failed mid-stream');
    const frame = anthropicErrorEvent(error);
    expect(frame).toBe(`event: error\ndata: ${JSON.stringify(anthropicErrorBody(error))}\n\n`);
    expect(JSON.parse(frame.split('\n')[1]!.slice('data: '.length))).toEqual({ type: 'error', error: { type: 'api_error', message: 'endpoint gpu-1 failed mid-stream' } });
  });
});
