/**
 * The HNSW search width each model needs, measured on its own queries.
 *
 * The default widths (vectors.service.ts) are set for the worst case: vectors that do not cluster, where a
 * search walks half the graph to find its true top 10. Most data clusters (real embeddings, and
 * even the local embedder's vectors over real text), and a narrower walk finds the same top k in a
 * fraction of the time: on the bench's Markdown corpus, recall@10 is 0.98 at width 100 instead of
 * 300, and with a 25% filter 0.98 at 150 instead of 450 — less than half the pages read.
 *
 * So every model keeps a sample of its recent index searches (their vectors, k and filter), and
 * once it has enough, measures in the background what narrower widths find against the exact
 * answer (an exhaustive scan) for the same searches. The narrowest width whose recall@k reaches the
 * target (INFINITY_SEARCH_RECALL, 0.98) — its 95% lower bound, not just its mean over the sample —
 * is used from then on; when none does, the default stays.
 * A width is never raised above the default. Searches with and without a filter are measured
 * apart, as a filter drops rows the walk has paid for. The measurement runs again once the sample
 * has been renewed and some minutes have passed, so the width follows the data and the queries.
 *
 * This is FAISS's auto-tuning idea, with the model's own queries as the tuning set: vectors of the
 * stored records would be the wrong set, as a record's vector finds its neighbours far more easily
 * than a short question does (recall 0.99 at width 40 against 0.945 on the Markdown corpus).
 * What it costs: one exact scan and one walk per width tried (about three), per sampled search,
 * queued behind user queries one statement at a time, at most once per model and kind every
 * RECALIBRATE_MS: on the 10,000 × 1,536 bench a measurement takes 3–14 s of the embedded
 * database's time, most of it the 64 exact scans.
 * Widths are per process, like the filter match counts; a restart starts from the defaults.
 */
import type { RawBuilder } from 'kysely';
import { SEARCH_WIDTH_SAMPLES } from '@infinity/contracts';

/**
 * The narrower widths a measurement chooses from; the default width (vectors.service.ts) is the last resort.
 * Not below 80: at narrower widths a few walks get trapped far from the query and find almost
 * nothing (topics corpus, 600 searches: 1.2% found fewer than half at width 40, 1% at 60, 0.3% at
 * 80), and 64 samples often hold none of them — a third of 64-search windows measured ≥ 0.99 at
 * width 40, whose recall over all 600 was 0.979 (the bench's 100 found 0.953). Walks at 40 and at
 * 80 cost about the same on data that clusters; the width pays off against the defaults.
 */
export const PLAIN_LADDER = [80, 100, 150, 200] as const;
export const FILTERED_LADDER = [100, 150, 200, 300] as const;
/** Searches sampled per model and kind, and measured per calibration. */
export const SAMPLES = SEARCH_WIDTH_SAMPLES;
export const RECALIBRATE_MS = 10 * 60_000;
/**
 * Models and kinds tracked, the least recently searched dropped first: each holds up to SAMPLES
 * query vectors (64 × 6 KB at 1,536 dimensions), so at most ~25 MB at that size.
 */
const TRACKS_KEPT = 64;

export type WidthKind = 'plain' | 'filtered';

export interface WidthSample {
  vector: Float32Array;
  k: number;
  /** The search's compiled records filter (`true` without one). */
  where: RawBuilder<boolean>;
}

/** One answer: ids with their cosine similarity, best first. */
export interface Hit {
  id: string;
  score: number;
}

export interface Calibration {
  /** The width searches of this kind use now (the default when no narrower one reached the target). */
  width: number;
  /** Mean recall@k measured at that width over the samples (its lower bound reached the target). */
  recall: number;
  samples: number;
  /** When it was measured (ISO 8601). */
  at: string;
  /** How long the measurement took, queued behind other queries. */
  tookMs: number;
}

/**
 * Tie-aware recall@k (as ann-benchmarks counts it): a hit counts when its similarity reaches the
 * k-th exact one, within float32 rounding, so records with equal scores are interchangeable.
 */
export function recallOf(exact: Hit[], got: Hit[], k: number): number {
  const n = Math.min(k, exact.length);
  if (n === 0) return 1;
  const kth = exact[n - 1]!.score;
  return Math.min(n, got.filter((h) => h.score >= kth - 1e-6).length) / n;
}

/**
 * The mean of per-search recalls, and a one-sided 95% lower bound on the mean over all searches
 * like these: recall varies a lot from one search to the next (most find all k, a few half), so a
 * mean over a few dozen is not enough to go on. On the bench's Markdown corpus, 40 searches with a
 * filter measured 0.99 at width 100 where 100 others found 0.961.
 */
export function recallBound(recalls: readonly number[]): { mean: number; lower: number } {
  const n = recalls.length;
  if (!n) return { mean: 0, lower: 0 };
  const mean = recalls.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? recalls.reduce((a, r) => a + (r - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, lower: mean - 1.645 * Math.sqrt(variance / n) };
}

/**
 * The narrowest width of the ladder whose recall's lower bound reaches the target, otherwise the
 * fallback (never wider). Recall grows with the width, so the ladder is bisected: three walks of
 * the samples instead of up to six. The recall reported is the mean at the width chosen.
 */
export async function narrowest(
  ladder: readonly number[],
  fallback: number,
  target: number,
  recallsAt: (width: number) => Promise<number[]>,
): Promise<{ width: number; recall: number }> {
  const widths = [...ladder.filter((w) => w < fallback), fallback];
  const measured = new Map<number, { mean: number; lower: number }>();
  const at = async (i: number) => {
    const w = widths[i]!;
    let m = measured.get(w);
    if (!m) measured.set(w, (m = recallBound(await recallsAt(w))));
    return m;
  };
  // widths[hi] is always acceptable (the fallback is, whatever its recall); widths[lo] is not.
  let [lo, hi] = [-1, widths.length - 1];
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((await at(mid)).lower >= target) hi = mid;
    else lo = mid;
  }
  return { width: widths[hi]!, recall: (await at(hi)).mean };
}

interface Track {
  /** The searches sampled since the last calibration started, the last SAMPLES of them. */
  ring: WidthSample[];
  next: number;
  lastAt: number;
  running?: Promise<void>;
  result?: Calibration;
  error?: string;
}

export interface SearchWidthOptions {
  /** The recall@k a narrower width must keep; ≥ 1 turns calibration off (the defaults always). */
  target: number;
  samples?: number;
  recalibrateMs?: number;
  now?: () => number;
}

/** What a calibration needs from the search: the exact answer (width undefined) or the walk's. */
export type Measure = (sample: WidthSample, width: number | undefined) => Promise<Hit[]>;

export class SearchWidths {
  private readonly tracks = new Map<string, Track>();
  private readonly samples: number;
  private readonly recalibrateMs: number;
  private readonly now: () => number;
  private stopped = false;

  constructor(readonly options: SearchWidthOptions) {
    this.samples = options.samples ?? SAMPLES;
    this.recalibrateMs = options.recalibrateMs ?? RECALIBRATE_MS;
    this.now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.options.target < 1;
  }

  /** The measured width for a model's searches of one kind, if there is one. */
  width(model: string, kind: WidthKind): number | undefined {
    return this.tracks.get(`${kind} ${model}`)?.result?.width;
  }

  /** Keeps an index search's sample; true when a calibration is due now. */
  sample(model: string, kind: WidthKind, s: WidthSample): boolean {
    if (!this.enabled || this.stopped) return false;
    const key = `${kind} ${model}`;
    let t = this.tracks.get(key);
    if (t)
      this.tracks.delete(key); // re-inserted last: the map runs from least to most recently searched
    else if (this.tracks.size >= TRACKS_KEPT) this.tracks.delete(this.tracks.keys().next().value!);
    t ??= { ring: [], next: 0, lastAt: -Infinity };
    this.tracks.set(key, t);
    t.ring[t.next] = s;
    t.next = (t.next + 1) % this.samples;
    return !t.running && t.ring.length >= this.samples && this.now() - t.lastAt >= this.recalibrateMs;
  }

  /**
   * Measures the model's sampled searches at narrower widths and keeps the narrowest that reaches
   * the target. One at a time per model and kind; a failure (the model changed under it) keeps the
   * previous width and is reported by status().
   */
  calibrate(model: string, kind: WidthKind, fallback: number, measure: Measure): Promise<void> {
    const t = this.tracks.get(`${kind} ${model}`);
    if (!t) return Promise.resolve();
    if (t.running) return t.running;
    const started = (t.lastAt = this.now());
    // The next measurement needs as many new samples anyway: these are let go.
    const samples = t.ring;
    t.ring = [];
    t.next = 0;
    t.running = (async () => {
      try {
        // One statement at a time: user searches queue between them, not behind all of them.
        const run: Measure = (s, w) => {
          if (this.stopped) throw new Error('stopped');
          return measure(s, w);
        };
        const exact: Hit[][] = [];
        for (const s of samples) exact.push(await run(s, undefined));
        const ladder = kind === 'filtered' ? FILTERED_LADDER : PLAIN_LADDER;
        const { width, recall } = await narrowest(ladder, fallback, this.options.target, async (w) => {
          const recalls: number[] = [];
          for (const [i, s] of samples.entries()) recalls.push(recallOf(exact[i]!, await run(s, w), s.k));
          return recalls;
        });
        const now = this.now();
        t.result = {
          width,
          recall: Math.round(recall * 1000) / 1000,
          samples: samples.length,
          at: new Date(now).toISOString(),
          tookMs: Math.round(now - started),
        };
        t.error = undefined;
      } catch (err) {
        t.error = err instanceof Error ? err.message : String(err);
      } finally {
        t.running = undefined;
      }
    })();
    return t.running;
  }

  /** A model's calibrations (GET /api/v1/models/{name}/embeddings): null before the first. */
  status(model: string): Record<WidthKind, (Partial<Calibration> & { error?: string }) | null> {
    const of = (kind: WidthKind) => {
      const t = this.tracks.get(`${kind} ${model}`);
      if (!t?.result && !t?.error) return null;
      return { ...t.result, ...(t.error ? { error: t.error } : {}) };
    };
    return { plain: of('plain'), filtered: of('filtered') };
  }

  /** Settles once no calibration is running (tests). */
  async idle(): Promise<void> {
    for (const t of this.tracks.values()) if (t.running) await t.running;
  }

  /** Shutdown: running calibrations end after their current statement; no new ones start. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }
}
