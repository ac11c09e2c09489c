import { describe, expect, it } from 'vitest';
import { BYTES_PER_TOKEN, NO_NEEDS, requestNeeds } from '../../src/proxy/request-needs.js';

/** The needs of a body as the route would see it: parsed, and its byte length. */
const needsOf = (shape: Parameters<typeof requestNeeds>[0], body: Record<string, unknown>) => {
  const bytes = Buffer.byteLength(JSON.stringify(body));
  return { needs: requestNeeds(shape, body, bytes), bytes };
};
const image = 'data:image/png;base64,' + 'A'.repeat(40_000);

describe('requestNeeds', () => {
  it('finds image parts of chat messages and counts their data out of the estimate', () => {
    const body = {
      model: 'm',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: image } }] },
      ],
    };
    const { needs, bytes } = needsOf('chat', body);
    expect(needs.capabilities).toEqual(['vision']);
    expect(needs.promptTokens).toBe(Math.ceil((bytes - image.length) / BYTES_PER_TOKEN));
    expect(needs.promptTokens).toBeLessThan(100);
  });

  it('finds tools (and the older functions) in chat bodies; an empty list needs nothing', () => {
    const tool = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } };
    expect(needsOf('chat', { model: 'm', messages: [], tools: [tool] }).needs.capabilities).toEqual(['tools']);
    expect(needsOf('chat', { model: 'm', messages: [], functions: [tool.function] }).needs.capabilities).toEqual(['tools']);
    expect(needsOf('chat', { model: 'm', messages: [], tools: [] }).needs.capabilities).toEqual([]);
    const both = { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }], tools: [tool] };
    expect(needsOf('chat', both).needs.capabilities).toEqual(['vision', 'tools']);
  });

  it('reads Responses input images and Anthropic image blocks', () => {
    const responses = { model: 'm', input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }, { type: 'input_image', image_url: image }] }] };
    const r = needsOf('responses', responses);
    expect(r.needs.capabilities).toEqual(['vision']);
    expect(r.needs.promptTokens).toBe(Math.ceil((r.bytes - image.length) / BYTES_PER_TOKEN));
    expect(needsOf('responses', { model: 'm', input: 'plain text' }).needs.capabilities).toEqual([]);
    const data = 'B'.repeat(8000);
    const messages = { model: 'm', max_tokens: 256, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data } }] }] };
    const m = needsOf('messages', messages);
    expect(m.needs).toEqual({ capabilities: ['vision'], promptTokens: Math.ceil((m.bytes - data.length) / BYTES_PER_TOKEN), outputTokens: 256 });
  });

  it('takes the largest output length asked for, of any of its names', () => {
    expect(needsOf('chat', { model: 'm', messages: [], max_tokens: 100 }).needs.outputTokens).toBe(100);
    expect(needsOf('chat', { model: 'm', messages: [], max_tokens: 100, max_completion_tokens: 300 }).needs.outputTokens).toBe(300);
    expect(needsOf('responses', { model: 'm', input: 'x', max_output_tokens: 50 }).needs.outputTokens).toBe(50);
    // Not a positive integer: not asked for.
    expect(needsOf('chat', { model: 'm', messages: [], max_tokens: '9000' }).needs.outputTokens).toBe(0);
    expect(needsOf('chat', { model: 'm', messages: [], max_tokens: -5 }).needs.outputTokens).toBe(0);
  });

  it('estimates completions by their bytes and never asks them for tools or vision', () => {
    const prompt = 'word '.repeat(2000);
    const { needs, bytes } = needsOf('completions', { model: 'm', prompt, tools: [{ type: 'function' }] });
    expect(needs.capabilities).toEqual([]);
    expect(needs.promptTokens).toBe(Math.ceil(bytes / BYTES_PER_TOKEN));
  });

  it('needs nothing of other routes, and shrugs at malformed content', () => {
    expect(requestNeeds('other', { model: 'm', input: 'x'.repeat(10_000) }, 10_020)).toBe(NO_NEEDS);
    const odd = { model: 'm', messages: [null, 3, 'text', { content: [null, { type: 7 }, { type: 'image_url' }] }, { content: { type: 'image_url' } }] };
    expect(needsOf('chat', odd).needs.capabilities).toEqual(['vision']);
    expect(needsOf('chat', { model: 'm', messages: 'not a list' }).needs.capabilities).toEqual([]);
  });
});
