/**
 * Similarity search on the embedded database, over three corpora (see Corpus): 10,000 records
 * embedded by the local provider at 1,536 dimensions (HNSW index), then 100 searches each without
 * a filter, with a common filter (25% of the records), with a rare one (1%) and with a new 25%
 * range every search. Reports back-fill throughput, p50/p95 latency, recall@10 against an exact
 * search computed here from the same embedder, and whether every filtered search came back full
 * (k results). 64 untimed searches with and 64 without a filter warm up first; the server measures
 * the model's search widths on them (search-width.ts), and the bench waits for that and prints them.
 *   npm run bench -- --vectors-only [--quick] [--corpus topics|markdown|salad]
 * BENCH_VECTORS_DIR=/some/dir keeps each corpus's embedded database there: the first run fills it,
 * later runs reuse it (no import, no back-fill; the back-fill figure is then that of the first run).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { localEmbed } from '../apps/server/src/modules/ai/local-embedder.js';
import { freePort, postJson, quick, root, spawnServer } from './lib.js';
import { seededRandom } from '../apps/server/src/platform/testing/random.js';
import { SAMPLES } from '../apps/server/src/modules/vectors/search-width.js';
import { SEARCH_WIDTH_DEFAULTS } from '@infinity/contracts';

const N = quick ? 2000 : 10_000;
const DIMS = 1536;
const QUERIES = quick ? 30 : 100;
const K = 10;
/**
 * The HNSW graph of 10,000 × 1,536 vectors is ~78 MB of index pages (one 6 KB vector per 8 KB
 * page). With the embedded default (16MB, chosen for a small idle footprint) or 64MB, searches
 * keep reading pages through the file system (p50 ≈ 50 ms on a slow VM); with 128MB the index
 * stays in the buffer pool (≈ 20 ms). docs/env.md says so, and `infinity doctor` warns.
 */
const SHARED_BUFFERS = process.env.BENCH_SHARED_BUFFERS ?? '128MB';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 10) / 10;
};

/**
 * The texts searched: 10,000 documents of a title and 25 words, and queries of 6 words.
 * - `topics`: documents about one of 50 subjects, as real collections are (a help centre, a
 *   catalogue, notes): 60% of a document's words come from its subject's 300 words, 40% from
 *   3,000 words common to all (the role stop words and general vocabulary play in real text).
 *   A query is about one subject, drawn the same way. Chosen once (2026-12-03), not tuned.
 * - `markdown`: real text — the Markdown files of the installed npm packages (node_modules, read
 *   in path order; no changelogs or licences; code blocks, links and markup removed), cut into
 *   25-word passages, each once, shuffled. A query is 6 consecutive words of a passage that is not
 *   indexed. The texts change when the lockfile does.
 * - `salad`: every word from the 3,000 common ones, no subject: nothing clusters, the local
 *   embedder's vectors are nearly orthogonal, and a graph index has to walk half its graph to find
 *   the nearest — the worst case for HNSW (ann-benchmarks' random datasets are this kind).
 * Synthetic words are drawn by a Zipf-like law (a word's rank is rand()² × the vocabulary).
 */
export type Corpus = 'topics' | 'markdown' | 'salad';
export const CORPORA: readonly Corpus[] = ['topics', 'markdown', 'salad'];
const CORPUS_TITLES: Record<Corpus, string> = {
  topics: 'documents about 50 subjects',
  markdown: 'passages of the installed packages’ Markdown (real text)',
  salad: 'word salad (no subjects: the worst case for HNSW)',
};
const TOPICS = 50;
const TOPIC_WORDS = 300;
const TOPIC_SHARE = 0.6;
const PASSAGE = 25;

/** `text(25)` is the next document's body, `text(n)` for a smaller n a query. */
function corpusTexts(corpus: Corpus, rand: () => number): (words: number) => string {
  if (corpus === 'markdown') return markdownPassages(rand);
  const common = Array.from({ length: 3000 }, (_, i) => `w${i.toString(36)}${'abcdefghij'[i % 10]}`);
  const topics = Array.from({ length: TOPICS }, (_, t) => Array.from({ length: TOPIC_WORDS }, (_, i) => `t${t.toString(36)}x${i.toString(36)}`));
  const zipf = (words: string[]) => words[Math.floor(rand() ** 2 * words.length)]!;
  // NB: the salad corpus draws exactly what it drew before topics existed, so its figures compare
  // with earlier runs.
  return (words) => {
    const topic = corpus === 'topics' ? topics[Math.floor(rand() * TOPICS)]! : undefined;
    return Array.from({ length: words }, () => (topic && rand() < TOPIC_SHARE ? zipf(topic) : zipf(common))).join(' ');
  };
}

function markdownPassages(rand: () => number): (words: number) => string {
  const dir = path.join(root, 'node_modules');
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.md$/i.test(f) && !/changelog|history|license|licence/i.test(f))
    .sort();
  const words = files.flatMap((f) =>
    readFileSync(path.join(dir, f), 'utf8')
      .replace(/```[\s\S]*?```/g, ' ')
      .replace(/<[^>]+>|\([^)]*\)|[#*_`>|[\]-]+/g, ' ')
      .split(/\s+/)
      .filter((w) => /[a-z]{2}/i.test(w)),
  );
  const passages = [...new Set(Array.from({ length: Math.floor(words.length / PASSAGE) }, (_, i) => words.slice(i * PASSAGE, (i + 1) * PASSAGE).join(' ')))];
  for (let i = passages.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [passages[i], passages[j]] = [passages[j]!, passages[i]!];
  }
  // Documents from the front, queries from passages after the indexed ones.
  if (passages.length < N + 1000) throw new Error(`node_modules has ${passages.length} Markdown passages of ${PASSAGE} words; the bench needs ${N + 1000}`);
  let doc = 0;
  let query = N;
  return (n) => {
    if (n === PASSAGE) return passages[doc++]!;
    const from = passages[query++ % passages.length]!.split(' ');
    const at = Math.floor(rand() * (PASSAGE - n + 1));
    return from.slice(at, at + n).join(' ');
  };
}

type Measured = { width: number; recall: number; tookMs: number } | null;

export interface VectorBench {
  corpus: Corpus;
  records: number;
  dimensions: number;
  sharedBuffers: string;
  backfill: { seconds: number; recordsPerSecond: number };
  searches: Record<string, { p50: number; p95: number; recallAt10: number; recallAt10Ties: number; full: boolean; queries: number; widths: string }>;
  /** The search widths the server measured on the warm-up searches (search-width.ts). */
  widths: { plain: Measured; filtered: Measured };
  /** Keyword (full-text, GIN index) and hybrid (both, fused by reciprocal rank) over the same records. */
  modes: Record<string, { p50: number; p95: number; queries: number }>;
}

export async function vectorsBench(corpus: Corpus): Promise<VectorBench> {
  const rand = seededRandom(42);
  const text = corpusTexts(corpus, rand);
  const docs = Array.from({ length: N }, (_, i) => ({ title: `doc ${i}`, body: text(25), cat: ['a', 'b', 'c', 'd'][i % 4]!, n: i }));
  const port = await freePort();
  const keep = process.env.BENCH_VECTORS_DIR;
  if (keep) mkdirSync(keep, { recursive: true });
  const ready = keep ? path.join(keep, `bench-ready-${corpus}-${N}.json`) : undefined;
  const reuse = ready !== undefined && existsSync(ready);
  process.stderr.write(`vector bench (${corpus} corpus): starting infinity (embedded${reuse ? `, reusing ${keep}` : ''})…\n`);
  const dataDir = keep ? path.join(keep, `${corpus}-${N}`) : mkdtempSync(path.join(os.tmpdir(), 'infinity-bench-vec-'));
  const server = await spawnServer(
    [path.join(root, 'apps/server/dist/cli.js'), 'start', '--port', String(port)],
    { INFINITY_DATA_DIR: dataDir, INFINITY_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', INFINITY_PGLITE_SHARED_BUFFERS: SHARED_BUFFERS },
    port,
    '/health/ready',
  );
  try {
    const api = `${server.url}/api/v1`;
    const account = { email: 'bench@example.com', password: 'bench password 1' };
    const su = reuse ? await postJson(`${api}/auth/login`, account) : await postJson(`${api}/auth/signup`, { name: 'Bench', ...account });
    const auth = { authorization: `Bearer ${su.data.accessToken as string}` };
    async function fill() {
      await postJson(
        `${api}/models`,
        {
          name: 'vdocs',
          fields: [
            { name: 'title', type: 'string' },
            { name: 'body', type: 'text' },
            { name: 'cat', type: 'string' },
            { name: 'n', type: 'integer' },
          ],
        },
        auth,
      );
      for (let i = 0; i < N; i += 2000) await postJson(`${api}/data/vdocs/bulk`, { op: 'create', items: docs.slice(i, i + 2000) }, auth);
      // Back-fill: enabling embeds every existing record (and builds the HNSW index as it goes).
      const started = performance.now();
      const patch = await fetch(`${api}/models/vdocs`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ embedding: { enabled: true, provider: 'local', sourceFields: ['title', 'body'], dimensions: DIMS } }),
      });
      if (!patch.ok) throw new Error(await patch.text());
      const bar = new cliProgress.SingleBar(
        { format: 'back-fill {bar} {value}/{total} records | {eta_formatted} left', stream: process.stderr },
        cliProgress.Presets.shades_classic,
      );
      bar.start(N, 0);
      for (;;) {
        const s = (await (await fetch(`${api}/models/vdocs/embeddings`, { headers: auth })).json()) as { data: { done: number; failed: number } };
        bar.update(s.data.done);
        if (s.data.failed) throw new Error('embedding failures');
        if (s.data.done >= N) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      bar.stop();
      return (performance.now() - started) / 1000;
    }
    const seconds = reuse ? (JSON.parse(readFileSync(ready, 'utf8')) as { seconds: number }).seconds : await fill();
    if (ready && !reuse) writeFileSync(ready, JSON.stringify({ seconds }));

    // Ids by n, and the vectors the server computed (same embedder, same text).
    const ids: string[] = new Array(N);
    for (let offset = 0; offset < N; offset += 1000) {
      const page = (await (await fetch(`${api}/data/vdocs?fields=n&limit=1000&offset=${offset}&sort=n`, { headers: auth })).json()) as {
        data: { id: string; n: number }[];
      };
      for (const r of page.data) ids[r.n] = r.id;
    }
    const vectors = docs.map((d) => localEmbed(`${d.title}\n${d.body}`, DIMS));
    const dot = (a: number[], b: number[]) => {
      let s = 0;
      for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
      return s;
    };
    interface Filtered {
      filter?: Record<string, unknown>;
      keep: (n: number) => boolean;
    }
    // The server remembers a filter's match count for a few seconds (search.ts, MatchCounts), so a
    // repeated filter skips its count; the last scenario asks a new 25% range every time.
    const scenarios: Record<string, () => Filtered> = {
      'no filter': () => ({ keep: () => true }),
      'filter cat = b (25%)': () => ({ filter: { cat: { eq: 'b' } }, keep: (n) => n % 4 === 1 }),
      'filter n < 100 (1%)': () => ({ filter: { n: { lt: N / 100 } }, keep: (n) => n < N / 100 }),
      'filter n in a new 25% range each search': () => {
        const from = Math.floor(rand() * (N * 0.75));
        return { filter: { n: { gte: from, lt: from + N / 4 } }, keep: (n) => n >= from && n < from + N / 4 };
      },
    };
    // Warm-up, untimed (as ann-benchmarks does): the first searches after the back-fill page the
    // graph into the buffer pool and let V8 compile the request path. They are also the searches
    // the server measures its search widths on (search-width.ts): as many as it samples, with and
    // without a filter (other categories than the timed ones), then the bench waits for the
    // measurements — the steady state a model reaches after its first few dozen searches. Only
    // searches that walk the graph are sampled: with --quick's 2,000 records a 25% filter matches
    // 500, is answered by an exact scan, and there is no filtered width to wait for.
    const graphWalks = { plain: 0, filtered: 0 };
    for (let q = 0; q < SAMPLES; q++) {
      const plain = await postJson<{ meta: { width?: number } }>(`${api}/data/vdocs/search`, { query: text(6), k: K, fields: ['n'] }, auth);
      const filtered = await postJson<{ meta: { width?: number } }>(
        `${api}/data/vdocs/search`,
        { query: text(6), k: K, filter: { cat: { eq: ['a', 'c', 'd'][q % 3] } }, fields: ['n'] },
        auth,
      );
      graphWalks.plain += plain.meta.width ? 1 : 0;
      graphWalks.filtered += filtered.meta.width ? 1 : 0;
    }
    let widths: VectorBench['widths'];
    for (let waited = 0; ; waited += 0.5) {
      const s = (await (await fetch(`${api}/models/vdocs/embeddings`, { headers: auth })).json()) as { data: { search: VectorBench['widths'] } };
      widths = s.data.search;
      if ((widths.plain || graphWalks.plain < SAMPLES) && (widths.filtered || graphWalks.filtered < SAMPLES)) break;
      if (waited > 300) throw new Error(`the search widths were not measured within 5 minutes: ${JSON.stringify(widths)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const searches: VectorBench['searches'] = {};
    for (const [name, scenario] of Object.entries(scenarios)) {
      // The exact answers first, then the timed searches back to back, then recall: ranking
      // 10,000 vectors here between two timed requests left its garbage to be collected inside
      // the next timing (ann-benchmarks computes its ground truth ahead of time too).
      const queries = Array.from({ length: QUERIES }, () => {
        const sc = scenario();
        const query = text(6);
        const qv = localEmbed(query, DIMS);
        const ranked = vectors
          .map((v, n) => ({ n, s: dot(v, qv) }))
          .filter((x) => sc.keep(x.n))
          .sort((a, b) => b.s - a.s);
        // ann-benchmarks' tie-aware recall: a result counts when its similarity reaches the k-th
        // true one (within 1e-6, float32 rounding): lexical vectors have many near-equal scores.
        const kth = ranked[K - 1]?.s ?? -Infinity;
        return {
          text: query,
          filter: sc.filter,
          exact: ranked.slice(0, K).map((x) => ids[x.n]!),
          atLeastKth: new Set(ranked.filter((x) => x.s >= kth - 1e-6).map((x) => ids[x.n]!)),
        };
      });
      const lat: number[] = [];
      const answers: { id: string }[][] = [];
      const walked = new Set<string>();
      for (const q of queries) {
        const t = performance.now();
        const res = await postJson<{ data: { id: string }[]; meta: { width?: number } }>(
          `${api}/data/vdocs/search`,
          { query: q.text, k: K, ...(q.filter ? { filter: q.filter } : {}), fields: ['n'] },
          auth,
        );
        lat.push(performance.now() - t);
        answers.push(res.data);
        walked.add(res.meta.width ? String(res.meta.width) : 'exact');
      }
      let recall = 0;
      let recallTies = 0;
      queries.forEach((q, i) => {
        const got = new Set(answers[i]!.map((r) => r.id));
        recall += q.exact.filter((id) => got.has(id)).length / K;
        recallTies += Math.min(K, answers[i]!.filter((r) => q.atLeastKth.has(r.id)).length) / K;
      });
      const full = answers.every((a) => a.length === K);
      searches[name] = {
        p50: pct(lat, 50),
        p95: pct(lat, 95),
        recallAt10: Math.round((recall / QUERIES) * 1000) / 1000,
        recallAt10Ties: Math.round((recallTies / QUERIES) * 1000) / 1000,
        full,
        queries: QUERIES,
        widths: [...walked].join(', '),
      };
    }
    const modes: VectorBench['modes'] = {};
    for (const mode of ['keyword', 'hybrid'] as const) {
      const lat: number[] = [];
      for (let q = 0; q < QUERIES; q++) {
        const words = text(2);
        const t = performance.now();
        await postJson(`${api}/data/vdocs/search`, { query: words, k: K, mode, fields: ['n'] }, auth);
        lat.push(performance.now() - t);
      }
      modes[mode] = { p50: pct(lat, 50), p95: pct(lat, 95), queries: QUERIES };
    }
    return {
      corpus,
      records: N,
      dimensions: DIMS,
      sharedBuffers: SHARED_BUFFERS,
      backfill: { seconds: Math.round(seconds * 10) / 10, recordsPerSecond: Math.round(N / seconds) },
      widths,
      searches,
      modes,
    };
  } finally {
    server.kill();
  }
}

export function printVectors(r: VectorBench) {
  console.log(
    `\nSimilarity search, embedded database (pgvector HNSW, shared_buffers ${r.sharedBuffers}), ${r.records} records × ${r.dimensions} dimensions, local embedder, ${CORPUS_TITLES[r.corpus]}`,
  );
  console.log(`Back-fill: ${r.backfill.seconds} s, ${r.backfill.recordsPerSecond} records/s (embedding + vector index inserts)`);
  const w = (m: Measured, d: number) =>
    m
      ? `${m.width}${m.width === d ? ' (the default)' : ''}, recall@10 ${m.recall} on the warm-up searches, in ${(m.tookMs / 1000).toFixed(1)} s`
      : `${d}, the default (not measured: these searches were exact scans)`;
  console.log(
    `Search widths measured: ${w(r.widths.plain, SEARCH_WIDTH_DEFAULTS.plain)}; with a filter ${w(r.widths.filtered, SEARCH_WIDTH_DEFAULTS.filtered)}\n`,
  );
  console.log('| search (k = 10) | p50 ms | p95 ms | recall@10 vs exact (ids) | recall@10, ties counted | always k results | width |');
  console.log('|---|---:|---:|---:|---:|---|---|');
  for (const [name, s] of Object.entries(r.searches))
    console.log(`| ${name} | ${s.p50} | ${s.p95} | ${s.recallAt10} | ${s.recallAt10Ties} | ${s.full ? 'yes' : 'NO'} | ${s.widths} |`);
  console.log('\n| mode (k = 10, two-word queries) | p50 ms | p95 ms |');
  console.log('|---|---:|---:|');
  for (const [name, s] of Object.entries(r.modes)) console.log(`| ${name} | ${s.p50} | ${s.p95} |`);
}
