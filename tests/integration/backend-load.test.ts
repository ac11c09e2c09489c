/**
 * The load a server publishes, as operators and the router see it: in `/v0/stats`, and as the
 * default concurrency cap of a llama.cpp server (its slots) when the admin set none.
 */
import { describe, expect, it } from 'vitest';
import { startFakeBackend } from '../helpers/fake-backend.js';
import { gateChat } from '../helpers/fake-upstream.js';
import { until, useFixtures } from '../helpers/llmlb-server.js';

const { llmlb, register } = useFixtures();
const VIEWER_STATS = '/v0/stats';

describe('published load', () => {
  it('shows in /v0/stats and caps a llama.cpp server at its slots when no max_concurrency is set', async () => {
    const llama = await startFakeBackend('llama.cpp');
    try {
      llama.serve('/props', JSON.stringify({ default_generation_settings: { n_ctx: 4096 }, total_slots: 1, modalities: { vision: false } }));
      llama.serve('/slots', JSON.stringify([{ id: 0, n_ctx: 4096, is_processing: false }]));
      const gate = gateChat(llama.upstream);
      const s = await llmlb();
      const id = await register(s, llama.upstream);
      const stats = await s.admin('GET', VIEWER_STATS);
      expect(stats.body.stats[0]).toMatchObject({
        endpoint_id: id,
        upstream: { source: 'check', slots_busy: 0, slots_total: 1, running: null, waiting: null, observed_at: expect.stringMatching(/Z$/) },
      });
      const chat = { model: '/models/Qwen2.5-7B-Instruct-Q4_K_M.gguf', messages: [{ role: 'user', content: 'hi' }] };
      const first = s.infer('/v1/chat/completions', chat);
      await until(() => gate.running() === 1);
      const second = s.infer('/v1/chat/completions', chat);
      await until(() => s.router.stats.queued === 1);
      expect(gate.running()).toBe(1);
      gate.open();
      expect((await Promise.all([first, second])).map((r) => r.status)).toEqual([200, 200]);
      expect(gate.peak()).toBe(1);

      // An admin's cap wins over the slots.
      await s.admin('PUT', `/v0/endpoints/${id}`, { max_concurrency: 3 });
      const held = gateChat(llama.upstream);
      const three = [1, 2, 3].map(() => s.infer('/v1/chat/completions', chat));
      await until(() => held.running() === 3);
      expect(s.router.stats.queued).toBe(0);
      held.open();
      expect((await Promise.all(three)).map((r) => r.status)).toEqual([200, 200, 200]);
    } finally {
      await llama.stop();
    }
  });
});
