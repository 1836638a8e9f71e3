import { afterEach, describe, expect, it, vi } from 'vitest';
import { MatchCounts } from './search.js';

describe('match counts remembered for the search strategy', () => {
  afterEach(() => vi.useRealTimers());

  it('counts a filter once for ten seconds, then again; keeps at most 1,000 filters, dropping the oldest', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-02T10:00:00Z') });
    const counts = new MatchCounts();
    const count = vi.fn(async () => 2500);
    expect(await counts.get('org.docs {"cat":{"eq":"b"}}', count)).toBe(2500);
    expect(await counts.get('org.docs {"cat":{"eq":"b"}}', count)).toBe(2500);
    expect(count).toHaveBeenCalledTimes(1);
    // Another filter or model is its own entry.
    expect(await counts.get('org.docs {"cat":{"eq":"c"}}', async () => 7)).toBe(7);
    vi.advanceTimersByTime(10_001);
    expect(await counts.get('org.docs {"cat":{"eq":"b"}}', count)).toBe(2500);
    expect(count).toHaveBeenCalledTimes(2);

    const fresh = new MatchCounts();
    for (let i = 0; i < 1000; i++) await fresh.get(`m ${i}`, async () => i);
    await fresh.get('m 1000', async () => 1000);
    const recount = vi.fn(async () => -1);
    expect(await fresh.get('m 0', recount)).toBe(-1);
    expect(await fresh.get('m 999', recount)).toBe(999);
    expect(recount).toHaveBeenCalledTimes(1);
  });
});
