/** Anthropic's error shape: the type for each status, the JSON body and the stream's error event. */
import { describe, expect, it } from 'vitest';
import { type ErrorCode, HTTP_STATUS_BY_CODE, LlmlbError } from '../../src/errors.js';
import { anthropicErrorBody, anthropicErrorEvent } from '../../src/proxy/anthropic-error.js';
import { ANTHROPIC_ERROR_TYPES } from '../contract/client.js';

describe('anthropicErrorBody', () => {
  it.each(Object.entries(HTTP_STATUS_BY_CODE) as Array<[ErrorCode, number]>)('%s (%i) has its status’s type', (code, status) => {
    expect(anthropicErrorBody(new LlmlbError(code, `message of ${code}`))).toEqual({
      type: 'error',
      error: { type: ANTHROPIC_ERROR_TYPES[status], message: `message of ${code}` },
    });
  });

  it('ends a broken stream with an `event: error` frame carrying the same body', () => {
    const error = new LlmlbError('upstream_error', 'endpoint gpu-1 failed mid-stream');
    const frame = anthropicErrorEvent(error);
    expect(frame).toBe(`event: error\ndata: ${JSON.stringify(anthropicErrorBody(error))}\n\n`);
    expect(JSON.parse(frame.split('\n')[1]!.slice('data: '.length))).toEqual({ type: 'error', error: { type: 'api_error', message: 'endpoint gpu-1 failed mid-stream' } });
  });
});
