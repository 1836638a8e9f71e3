import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { type Hit, type Measure, SearchWidths, type WidthSample, narrowest, recallBound, recallOf } from './search-width.js';

const hits = (...scores: number[]): Hit[] => scores.map((score, i) => ({ id: `r${i}`, score }));
const sample = (k = 3): WidthSample => ({ vector: new Float32Array([1, 0]), k, where: sql<boolean>`true` });

describe('search widths', () => {
  it('counts a hit when it reaches the k-th exact similarity, so equal scores are interchangeable', () => {
    const exact = hits(0.9, 0.8, 0.7, 0.7);
    expect(
      recallOf(
        exact,
        [
          { id: 'x', score: 0.9 },
          { id: 'y', score: 0.8 },
          { id: 'z', score: 0.7 },
        ],
        3,
      ),
    ).toBe(1);
    expect(recallOf(exact, hits(0.9, 0.8, 0.6), 3)).toBeCloseTo(2 / 3);
    // Fewer than k records match: recall is over what exists.
    expect(recallOf(hits(0.5), hits(0.5), 10)).toBe(1);
    expect(recallOf([], [], 10)).toBe(1);
  });

  it('judges a width by a lower bound on its recall, not by the mean of a few searches', () => {
    expect(recallBound([1, 1, 1, 1])).toEqual({ mean: 1, lower: 1 });
    // Mean 0.99 over 40 searches, one of which found half: the bound is well below the mean.
    const spread = [...Array.from({ length: 39 }, () => 1), 0.6];
    const b = recallBound(spread);
    expect(b.mean).toBeCloseTo(0.99);
    expect(b.lower).toBeLessThan(0.975);
  });

  it('keeps the narrowest width that reaches the target, bisecting the ladder; else the default', async () => {
    const tried: number[] = [];
    const at = (recall: Record<number, number>) => async (w: number) => {
      tried.push(w);
      return Array.from({ length: 20 }, () => recall[w] ?? 1);
    };
    expect(await narrowest([40, 60, 80], 300, 0.98, at({ 40: 0.5, 60: 1 }))).toEqual({ width: 60, recall: 1 });
    expect(tried).toEqual([60, 40]);
    tried.length = 0;
    expect(await narrowest([40, 60, 80], 300, 0.98, at({ 40: 0.5, 60: 0.5, 80: 0.75, 300: 0.75 }))).toEqual({ width: 300, recall: 0.75 });
    expect(tried).toEqual([60, 80, 300]);
    tried.length = 0;
    // The narrowest of a longer ladder in three walks: 80 passes, 40 and 60 fail.
    expect(await narrowest([40, 60, 80, 100, 150, 200], 300, 0.98, at({ 40: 0.5, 60: 0.5 }))).toEqual({ width: 80, recall: 1 });
    expect(tried).toEqual([80, 40, 60]);
    // Never wider than the default: ladder steps at or above it are not tried.
    tried.length = 0;
    expect((await narrowest([40, 500], 300, 0.98, at({ 40: 0.5 }))).width).toBe(300);
    expect(tried).toEqual([40, 300]);
  });

  it('calibrates once enough fresh searches are sampled, at most once a period, one run at a time', async () => {
    let now = 0;
    const w = new SearchWidths({ target: 0.98, samples: 3, recalibrateMs: 1000, now: () => now });
    const exact = hits(0.9, 0.8, 0.7);
    const calls: (number | undefined)[] = [];
    // Width 80 finds two of three; 100 finds all.
    const measure: Measure = async (_s, width) => {
      calls.push(width);
      return width === undefined || width >= 100 ? exact : hits(0.9, 0.8, 0.1);
    };
    expect(w.sample('m', 'plain', sample())).toBe(false);
    expect(w.sample('m', 'plain', sample())).toBe(false);
    expect(w.width('m', 'plain')).toBeUndefined();
    expect(w.sample('m', 'plain', sample())).toBe(true);
    const run = w.calibrate('m', 'plain', 300, measure);
    expect(w.calibrate('m', 'plain', 300, measure)).toBe(run);
    expect(w.sample('m', 'plain', sample())).toBe(false); // running
    await run;
    expect(calls).toEqual([undefined, undefined, undefined, 100, 100, 100, 80, 80, 80]);
    expect(w.width('m', 'plain')).toBe(100);
    expect(w.width('m', 'filtered')).toBeUndefined();
    expect(w.status('m')).toEqual({ plain: { width: 100, recall: 1, samples: 3, at: new Date(0).toISOString(), tookMs: 0 }, filtered: null });
    // Fresh samples, but too soon; then after the period.
    for (let i = 0; i < 3; i++) expect(w.sample('m', 'plain', sample())).toBe(false);
    now = 1000;
    expect(w.sample('m', 'plain', sample())).toBe(true);
  });

  it('tracks at most 64 models and kinds, dropping the least recently searched', async () => {
    const w = new SearchWidths({ target: 0.98, samples: 1 });
    const measured = async (name: string) => {
      w.sample(name, 'plain', sample());
      await w.calibrate(name, 'plain', 300, async () => hits(1));
    };
    await measured('kept');
    await measured('dropped');
    for (let i = 0; i < 62; i++) w.sample(`m${i}`, 'plain', sample());
    w.sample('kept', 'plain', sample()); // now the most recently searched
    w.sample('new', 'plain', sample()); // the 65th: the least recently searched goes
    expect(w.width('kept', 'plain')).toBe(80);
    expect(w.width('dropped', 'plain')).toBeUndefined();
  });

  it('keeps the previous width when a measurement fails, and says why', async () => {
    const w = new SearchWidths({ target: 0.98, samples: 1, recalibrateMs: 0 });
    w.sample('m', 'filtered', sample());
    await w.calibrate('m', 'filtered', 450, async () => hits(1));
    expect(w.width('m', 'filtered')).toBe(100);
    w.sample('m', 'filtered', sample());
    await w.calibrate('m', 'filtered', 450, async () => {
      throw new Error('column "cat" does not exist');
    });
    expect(w.width('m', 'filtered')).toBe(100);
    expect(w.status('m').filtered).toMatchObject({ width: 100, error: 'column "cat" does not exist' });
  });

  it('does nothing with a target of 1; stopping ends a running measurement after its current statement', async () => {
    const off = new SearchWidths({ target: 1, samples: 1 });
    expect(off.sample('m', 'plain', sample())).toBe(false);
    const w = new SearchWidths({ target: 0.98, samples: 1 });
    expect(w.sample('m', 'plain', sample())).toBe(true);
    let release!: () => void;
    const calls: (number | undefined)[] = [];
    const run = w.calibrate('m', 'plain', 300, async (_s, width) => {
      calls.push(width);
      if (calls.length === 1) await new Promise<void>((r) => (release = r));
      return hits(1);
    });
    await Promise.resolve();
    const stopped = w.stop();
    release();
    await stopped;
    await run;
    expect(calls).toEqual([undefined]);
    expect(w.status('m').plain).toEqual({ error: 'stopped' });
    expect(w.sample('m', 'plain', sample())).toBe(false);
  });
});
