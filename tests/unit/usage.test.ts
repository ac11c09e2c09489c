/** Token usage from the end of a body: JSON answers, the last SSE event, keys split across chunks. */
import { describe, expect, it } from 'vitest';
import { BodyTail } from '../../src/proxy/usage.js';

const tailOf = (...chunks: string[]) => {
  const tail = new BodyTail();
  for (const chunk of chunks) tail.push(Buffer.from(chunk));
  return tail;
};

describe('BodyTail.usage', () => {
  it('reads usage from a JSON answer, nested details included', () => {
    const body = JSON.stringify({ choices: [{ message: { content: '{"usage":1}' } }], usage: { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21, prompt_tokens_details: { cached_tokens: 0 } } });
    expect(tailOf(body).usage()).toEqual({ prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 });
  });

  it('reads the last event of a stream, where earlier events carry "usage": null', () => {
    const events = Array.from({ length: 300 }, (_, i) => `data: {"choices":[{"delta":{"content":"${i}"}}],"usage":null}\n\n`);
    const last = 'data: {"choices":[],"usage":{"prompt_tokens":2,"completion_tokens":300,"total_tokens":302}}\n\n';
    expect(tailOf(...events, last, 'data: [DONE]\n\n').usage()).toEqual({ prompt_tokens: 2, completion_tokens: 300, total_tokens: 302 });
    expect(tailOf(...events, 'data: [DONE]\n\n').usage()).toBeNull();
  });

  it('finds a key split across two chunks, and a value split too', () => {
    expect(tailOf('{"id":"x","us', 'age":{"prompt_tokens":1,', '"completion_tokens":2}}').usage()).toEqual({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 });
  });

  it('is null without usage, or with a body that is not JSON', () => {
    expect(tailOf('{"choices":[]}').usage()).toBeNull();
    expect(tailOf('"usage": {broken').usage()).toBeNull();
    expect(new BodyTail().usage()).toBeNull();
  });
});
