/** The load board: the newest report per source, merged per figure with the newer one winning. */
import { describe, expect, it } from 'vitest';
import { LoadBoard, NO_FIGURES } from '../../src/load-signals.js';

describe('LoadBoard', () => {
  it('keeps the newest report of each source and merges them, the newer source winning per figure', () => {
    const board = new LoadBoard();
    expect(board.get('a')).toBeUndefined();

    board.report('a', { ...NO_FIGURES, running: 2, waiting: 5, slots_total: 4 }, 'check', 1_000);
    expect(board.get('a')).toEqual({ ...NO_FIGURES, running: 2, waiting: 5, slots_total: 4, source: 'check', observed_at: 1_000 });

    board.report('a', { ...NO_FIGURES, running: 3, gpu_utilization: 0.9, loaded_models: ['m'] }, 'heartbeat', 2_000);
    expect(board.get('a')).toEqual({
      ...NO_FIGURES,
      running: 3,
      waiting: 5,
      slots_total: 4,
      gpu_utilization: 0.9,
      loaded_models: ['m'],
      source: 'heartbeat',
      observed_at: 2_000,
    });

    // A newer check replaces the older check and now wins where both published.
    board.report('a', { ...NO_FIGURES, running: 1, waiting: 0 }, 'check', 3_000);
    expect(board.get('a')).toMatchObject({ running: 1, waiting: 0, slots_total: null, gpu_utilization: 0.9, source: 'check' });
    expect(board.get('b')).toBeUndefined();
  });

  it('copies what it is given and forgets a removed endpoint', () => {
    const board = new LoadBoard();
    const loaded = ['m'];
    board.report('a', { ...NO_FIGURES, loaded_models: loaded }, 'heartbeat', 1);
    loaded.push('n');
    expect(board.get('a')?.loaded_models).toEqual(['m']);
    board.forget('a');
    expect(board.get('a')).toBeUndefined();
  });

  it('keeps an endpoint that never published a figure off the board, and clears one that stops publishing', () => {
    const board = new LoadBoard();
    board.report('quiet', NO_FIGURES, 'check', 1);
    board.report('quiet', NO_FIGURES, 'heartbeat', 2);
    expect(board.get('quiet')).toBeUndefined();
    board.report('a', { ...NO_FIGURES, waiting: 4 }, 'check', 1);
    board.report('a', NO_FIGURES, 'check', 2);
    expect(board.get('a')).toEqual({ ...NO_FIGURES, source: 'check', observed_at: 2 });
  });
});
