import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.js';

describe('Batcher (group commit)', () => {
  it('writes the first item at once and groups those that arrive meanwhile, results in order', async () => {
    const batches: number[][] = [];
    let release: () => void = () => undefined;
    const b = new Batcher<number, number>(
      async (xs) => {
        batches.push(xs);
        if (batches.length === 1) await new Promise<void>((r) => (release = r));
        return xs.map((x) => x * 10);
      },
      { maxBatch: 3, maxInFlight: 1 },
    );
    const first = b.push(1);
    const rest = [2, 3, 4, 5].map((x) => b.push(x));
    release();
    expect(await Promise.all([first, ...rest])).toEqual([10, 20, 30, 40, 50]);
    expect(batches).toEqual([[1], [2, 3, 4], [5]]);
  });

  it('rejects every item of a failed batch and keeps going', async () => {
    let fail = true;
    const b = new Batcher<number, number>(
      async (xs) => {
        if (fail) {
          fail = false;
          throw new Error('down');
        }
        return xs;
      },
      { maxBatch: 10, maxInFlight: 1 },
    );
    await expect(b.push(1)).rejects.toThrow('down');
    expect(await b.push(2)).toBe(2);
  });
});
