import { type Kysely, type RawBuilder, sql } from 'kysely';
import { z } from 'zod';
import { SEARCH_WIDTH_DEFAULTS } from '@infinity/contracts';
import { type LocalSettings, ident, vectorLiteral, withLocalSettings } from '../../platform/db/index.js';
import type { OrgActor } from '../access/index.js';
import { type ApiRecord, columnsOf, explain, parseFilter, recordErrors, requireModel, toRecord, whereFor } from '../records/index.js';
import { type ModelCache, type ModelDef, type OrgModels, searchDocumentColumn } from '../schema/index.js';
import type { Hit, SearchWidths, WidthKind, WidthSample } from './search-width.js';

/** What similarity search needs: the records' database and models, and the embedding side. */
export interface VectorsContext {
  db: Kysely<object>;
  cache: ModelCache;
  /** pgvector is installed (vector columns, HNSW); otherwise embeddings are real[] scanned exactly. */
  vector?: boolean;
  /** Embeds a search text with the model's embedding settings (wired to the AI module). */
  embedQuery?: (actor: OrgActor, model: ModelDef, text: string) => Promise<number[]>;
  /** Per-model HNSW search widths measured on the model's own queries (search-width.ts). */
  widths?: SearchWidths;
}

export const searchBodySchema = z
  .strictObject({
    query: z
      .string()
      .trim()
      .min(1)
      .max(8000)
      .optional()
      .describe('Text to search for (embedded with the model’s embedding settings for vector and hybrid search)'),
    vector: z.array(z.number().finite()).min(2).max(4000).optional().describe('A query vector of the model’s dimensions, instead of a text'),
    k: z.number().int().min(1).max(256).default(10),
    threshold: z.number().min(-1).max(1).optional().describe('Vector mode: only results with at least this cosine similarity'),
    filter: z.record(z.string(), z.unknown()).optional().describe('The records filter language, applied in the same query'),
    mode: z.enum(['vector', 'keyword', 'hybrid']).default('vector'),
    fields: z.array(z.string().max(63)).max(200).optional(),
  })
  .refine((b) => b.query !== undefined || b.vector !== undefined, 'give a query or a vector')
  .refine((b) => b.mode === 'vector' || b.query !== undefined, 'keyword and hybrid search need a query text');
export type SearchBody = z.output<typeof searchBodySchema>;

export interface SearchResult {
  /**
   * Each hit with its similarity as `_score` (never a field name: fields start with a letter) and,
   * unless the model has a field named `score`, also as `score`.
   */
  data: (ApiRecord & { _score: number })[];
  /** Whether the exact scan answered (no index, or the index could not fill k with the filter). */
  exact: boolean;
  /** The HNSW search width the graph was walked with (not for exact scans). */
  width?: number;
}

const RRF_K = 60;
/**
 * HNSW search width, set for the worst case: the bench's word-salad corpus (bench/vectors.ts), whose
 * 10,000 × 1,536 vectors do not cluster. On it (graph built with ef_construction 128), in SQL
 * with the index in the buffer pool: 400 → recall@10 0.985, 15.9–22.4 ms; 300 → 0.977,
 * 15.6–18.9 ms; 200 → 0.945, 11.2–15.1 ms (before pgvector's inner product ran on SIMD, which
 * took ~23% off). A filter drops rows the walk has paid for, so filtered searches walk wider: with
 * a 25% filter, 400 → 0.946–0.961 over two query sets, 450 → 0.957–0.967; 200 → 0.88.
 * Where the time goes (CPU profile of the bench's server): at width 300 a search touches ~5,000
 * index pages — half the graph, as hashed lexical vectors are nearly orthogonal — at ~2 µs each in
 * WASM: pgvector's per-node work (buffer pins, the visited set, candidate heaps) and the inner
 * product, still a quarter with SIMD as it now waits on memory (each visit reads a 6 KB vector)
 * rather than on adds. Better graphs buy little per page touched: at the same recall,
 * ef_construction 256 saved 5% of the pages, m 20 7–9% (1.9× the build), m 32 with
 * ef_construction 200 up to 19% (2.3× the build, so half the back-fill rate); m 12 lost recall.
 * Tried and dropped: a halfvec index with full-precision re-ranking is half the size but 4–5×
 * slower in the embedded database (WASM has no F16C, every half float is converted in software);
 * with the conversion on SIMD too it was as fast as the vector index, not faster (same pages).
 * So was a binary-quantized index (bit HNSW, 5 MB, built in 5 s, searched in 3–9 ms) with exact
 * re-ranking: on the local embedder's sparse signed vectors recall@10 stayed at 0.12 (Hamming) and
 * 0.46 (Jaccard) even re-ranking 320 candidates.
 * And IVFFlat (100 lists, built after the back-fill in 11 s): 0.56 at 10 probes (6 ms), 0.80 at 30
 * (11 ms) — hashed lexical vectors do not cluster.
 * On the bench's other corpora the same widths give recall@10 0.997–1.0 (documents about 50
 * subjects) and 0.989–1.0 (real Markdown); docs/architecture.md has their timings. Such data needs
 * far less: each model's vector searches narrow these widths to what its own queries need
 * (search-width.ts).
 */
const EF_SEARCH: Record<WidthKind, number> = SEARCH_WIDTH_DEFAULTS;
/** Filtered searches matching at most this many records are exact scans. */
const EXACT_BELOW = 1000;
const table = (models: OrgModels, name: string) => ident(models.schema, name);

/**
 * The full-text document: the embedding's source fields (stored and indexed with the embedding
 * columns), or every text field of a model without embeddings.
 */
function documentOf(model: ModelDef, alias: string): RawBuilder<unknown> {
  if (model.embedding?.enabled) return searchDocumentColumn(alias);
  const names = model.fields.filter((f) => f.type === 'string' || f.type === 'text' || f.type === 'enum').map((f) => f.name);
  if (!names.length) throw recordErrors.QUERY_INVALID(`Model ${model.name} has no text fields for keyword search.`);
  return sql`to_tsvector('simple', concat_ws(' ', ${sql.join(names.map((n) => ident(alias, n)))}))`;
}

/**
 * Similarity search over a model's records (SPEC §4): top k by cosine similarity, keyword rank,
 * or both fused by reciprocal rank; the records filter in the same SQL. With pgvector the HNSW
 * index answers (iterative scans keep going until k rows pass the filter); should it still return
 * fewer than k while more records match, the exact scan answers instead — a filtered search is
 * never short. Without pgvector, vectors are real[] and every search is an exact scan.
 */
export async function searchRecords(ctx: VectorsContext, actor: OrgActor, name: string, body: SearchBody): Promise<SearchResult> {
  const { model, models } = await requireModel(ctx, actor, name);
  const emb = model.embedding?.enabled ? model.embedding : null;
  if (body.mode !== 'keyword' && !emb)
    throw recordErrors.EMBEDDING_NOT_ENABLED(
      `Model ${name} has no embeddings: enable them (PATCH /api/v1/models/${name} with embedding) or search with mode "keyword".`,
    );
  if (body.fields)
    for (const f of body.fields)
      if (!model.fields.some((x) => x.name === f) && !['id', 'createdAt', 'updatedAt'].includes(f))
        throw recordErrors.QUERY_INVALID(`Unknown field "${f.slice(0, 60)}" in fields.`);
  const where = whereFor(model, models, { filter: parseFilter(body.filter), q: undefined });
  let vec: number[] | undefined;
  if (emb && body.mode !== 'keyword') {
    if (body.vector) {
      if (body.vector.length !== emb.dimensions)
        throw recordErrors.QUERY_INVALID(`The vector has ${body.vector.length} dimensions; ${name} embeddings have ${emb.dimensions}.`);
      vec = body.vector;
    } else {
      if (!ctx.embedQuery) throw new Error('records context has no embedQuery');
      vec = await ctx.embedQuery(actor, model, body.query!);
    }
  }
  const pgvector = ctx.vector === true;
  // Asked before the query: the embedded database has one connection, which a transaction holds.
  const iterativeScan = pgvector && body.mode !== 'keyword' && (await iterativeScans(ctx));
  // Vector searches walk the graph as wide as this model's own queries need (search-width.ts).
  const widthKind: WidthKind = body.filter ? 'filtered' : 'plain';
  const widthKey = widthKeyOf(model);
  const tuned = pgvector && body.mode === 'vector' ? ctx.widths?.width(widthKey, widthKind) : undefined;
  const shape: SearchShape = { model, models, body, where, vector: vec, pgvector, iterativeScan, ...(tuned ? { width: tuned } : {}) };
  const k = body.k;
  let width: number | undefined;
  const run = async (exact: boolean) => {
    const r = await execute(ctx, shape, exact);
    width = r.width;
    return r.rows.map((row) => ({ row, score: Number(row._s) }));
  };
  const search = (exact: boolean) => run(exact).catch((err: unknown) => explain(model, models, err));

  // real[] has no index: its scan is exact already. A filter that leaves few rows is answered
  // exactly too (like a planner would): reading those vectors is cheaper than walking the graph
  // until enough of them turn up, and the answer is the true top k.
  // The embedded records that pass the filter: counted up to `upTo` (the count stops there), or
  // estimated by the planner.
  const passing = sql`select 1 from ${table(models, name)} t where t._embedding is not null and ${where}`;
  const matching = async (upTo: number) =>
    (await sql<{ n: number }>`select count(*)::int as n from (${passing} limit ${upTo}) x`.execute(ctx.db)).rows[0]?.n ?? 0;
  const estimated = async () => planRows((await sql<{ 'QUERY PLAN': string }>`explain ${passing}`.execute(ctx.db)).rows[0]?.['QUERY PLAN'] ?? '');
  let exact = !pgvector || body.mode === 'keyword';
  // Known only for filtered searches: more than EXACT_BELOW (≥ any k) when the index is tried.
  let matches: number | undefined;
  if (!exact && body.filter) {
    matches = await matchCounts(ctx).get(`${models.schema}.${name} ${JSON.stringify(body.filter)}`, async () => {
      // The planner's estimate first (statistics, ~1 ms, no scan): well above the line, the index
      // answers; near or below it, the count (~3 ms for a 25% filter here) decides. An estimate
      // far too high costs time only: the graph comes back short and the exact scan answers.
      const estimate = await estimated();
      return estimate > EXACT_BELOW * 2 ? estimate : matching(EXACT_BELOW + 1);
    });
    if (matches <= EXACT_BELOW) exact = true;
  }
  let hits = await search(exact);
  if (!exact && hits.length < k) {
    if ((matches ?? (await matching(k))) > hits.length) {
      hits = await search(true);
      exact = true;
    }
  }
  if (!exact && body.mode === 'vector' && vec && ctx.widths) {
    const widths = ctx.widths;
    const sample: WidthSample = { vector: Float32Array.from(vec), k, where };
    if (widths.sample(widthKey, widthKind, sample)) {
      void widths.calibrate(widthKey, widthKind, EF_SEARCH[widthKind], (s, w) => measure(ctx, shape, s, w));
    }
  }
  const threshold = body.mode === 'vector' ? body.threshold : undefined;
  // A field named score is the record's own: the similarity then stays in _score only.
  const ownScore = model.fields.some((f) => f.name === 'score');
  const data = hits
    .filter((h) => threshold === undefined || h.score >= threshold)
    .map((h) => {
      const score = Math.round(h.score * 1e6) / 1e6;
      return { ...toRecord(model, h.row, body.fields), ...(ownScore ? {} : { score }), _score: score };
    });
  return { data, exact, ...(width === undefined ? {} : { width }) };
}

/** Runs one search statement; `width` is the graph width it walked (undefined: an exact scan). */
async function execute(ctx: VectorsContext, shape: SearchShape, exact: boolean) {
  const { settings, query, width } = searchStatement(shape, exact);
  return { rows: await withLocalSettings(ctx.db, settings, query), width };
}

/**
 * Widths are measured per model and embedding settings: other settings, another graph. Named one
 * by one, not serialized: the settings read back from jsonb come with their keys in another order.
 */
export const widthKeyOf = ({ id, embedding: e }: ModelDef) => (e ? `${id} ${e.provider} ${e.model ?? ''} ${e.dimensions} ${e.sourceFields.join(',')}` : id);

/** A model's measured search widths (GET /api/v1/models/{name}/embeddings); null before any. */
export function searchWidthsOf(ctx: VectorsContext, model: ModelDef) {
  return ctx.widths?.status(widthKeyOf(model)) ?? { plain: null, filtered: null };
}

/**
 * A sampled search again, exactly (width undefined) or walking the graph at a width: for
 * calibration. `like` is a search of the same kind (its filter, if any, only sets the walk's order
 * and default width; the sample's own compiled filter is `s.where`).
 */
async function measure(ctx: VectorsContext, like: SearchShape, s: WidthSample, width: number | undefined): Promise<Hit[]> {
  const body: SearchBody = { mode: 'vector', k: s.k, ...(like.body.filter ? { filter: like.body.filter } : {}) };
  const { rows } = await execute(ctx, { ...like, body, where: s.where, vector: Array.from(s.vector), ...(width ? { width } : {}) }, width === undefined);
  return rows.map((r) => ({ id: String(r.id), score: Number(r._s) }));
}

/** What one search statement is made of: searchRecords resolves it (tests explain its plan). */
export interface SearchShape {
  model: ModelDef;
  models: OrgModels;
  body: SearchBody;
  /** The records filter, compiled (whereFor). */
  where: RawBuilder<boolean>;
  /** The query vector (vector and hybrid modes). */
  vector: number[] | undefined;
  pgvector: boolean;
  /** pgvector ≥ 0.8: the graph walk goes on until k rows pass the filter. */
  iterativeScan: boolean;
  /** The graph's search width, when measured for this model (search-width.ts); else the default. */
  width?: number;
}

/** The settings and the query of one search: over the index, or (`exact`) an exhaustive scan. */
export function searchStatement(
  shape: SearchShape,
  exact: boolean,
): { settings: LocalSettings; query: RawBuilder<Record<string, unknown> & { _s: number }>; width: number | undefined } {
  const { model, models, body, where, vector, pgvector, iterativeScan, width } = shape;
  const name = model.name;
  // The query vector is inlined (numbers only), like k: a search without a filter is then a query
  // without parameters, which goes out in one statement with its settings (withLocalSettings).
  const qv = vector ? sql`${sql.lit(vectorLiteral(vector, pgvector))}::${sql.raw(pgvector ? 'vector' : 'real[]')}` : undefined;
  // Distance, smaller is nearer; `exact` hides the expression from the index so the scan is exhaustive.
  // Written once per query and ordered by its alias (the index still answers): the vector literal
  // is then sent and parsed once. A dense 1,536-dimension literal is ~32 KB of text; writing it
  // twice cost 3.6 ms per search (12.5 against 16.1 ms, paired, on the 10,000-vector bench).
  const distance = pgvector ? (exact ? sql`((t._embedding <=> ${qv}) + 0)` : sql`(t._embedding <=> ${qv})`) : sql`(- public.infinity_dot(t._embedding, ${qv}))`;
  const tsQuery = body.query ? sql`plainto_tsquery('simple', ${body.query})` : undefined;
  const cols = columnsOf(model, 't');
  const k = body.k;
  const limit = (n: number) => sql.lit(Math.trunc(n));
  /**
   * The graph's search width, and the index preferred: the planner prices a sequential scan by
   * the main heap only, while vectors live out of line (TOAST), so it often picks an exact scan;
   * searchRecords keeps that as its fallback. With a filter the graph is walked in relaxed order
   * (faster while it skips rows the filter drops; the k rows it yields are sorted by distance
   * here) and iteratively (pgvector ≥ 0.8) until k rows pass; hybrid search asks for more
   * candidates than the width, so it walks on in strict order; a plain top k is within the first
   * width.
   */
  const walk =
    !pgvector || exact || body.mode === 'keyword' ? undefined : Math.min(1000, Math.max(width ?? EF_SEARCH[body.filter ? 'filtered' : 'plain'], k * 2));
  const settings = ((): LocalSettings => {
    if (walk === undefined) return {};
    const order = !iterativeScan ? undefined : body.filter ? 'relaxed_order' : body.mode === 'hybrid' ? 'strict_order' : undefined;
    return { 'hnsw.ef_search': String(walk), enable_seqscan: 'off', ...(order ? { 'hnsw.iterative_scan': order } : {}) };
  })();
  // The query of the mode; every one yields its score as `_s`.
  const query = ((): RawBuilder<Record<string, unknown> & { _s: number }> => {
    if (body.mode === 'vector') {
      // Cosine distance is 1 − similarity; the real[] distance is − similarity (unit vectors).
      return sql`
        with hits as materialized (
          select ${cols}, ${distance} as _d from ${table(models, name)} t
          where t._embedding is not null and ${where} order by _d limit ${limit(k)})
        select *, ${pgvector ? sql`1 - _d` : sql`- _d`} as _s from hits order by _d`;
    }
    const doc = documentOf(model, 't');
    if (body.mode === 'keyword') {
      return sql`
        select ${cols}, ts_rank(${doc}, ${tsQuery}) as _s from ${table(models, name)} t
        where ${doc} @@ ${tsQuery} and ${where} order by _s desc, t.id limit ${limit(k)}`;
    }
    const n = Math.min(1000, Math.max(50, k * 4));
    return sql`
      with v as (select id, row_number() over (order by d) as r from (select t.id, ${distance} as d from ${table(models, name)} t where t._embedding is not null and ${where} order by d limit ${limit(n)}) x),
           kw as (select id, row_number() over (order by rank desc, id) as r from (select t.id, ts_rank(${doc}, ${tsQuery}) as rank from ${table(models, name)} t where ${doc} @@ ${tsQuery} and ${where} order by rank desc, t.id limit ${limit(n)}) y),
           fused as (select id, sum(1.0 / (${sql.lit(RRF_K)} + r)) as score from (select id, r from v union all select id, r from kw) z group by id)
      select ${cols}, f.score as _s from fused f join ${table(models, name)} t on t.id = f.id order by f.score desc, t.id limit ${limit(k)}`;
  })();
  return { settings, query, width: walk };
}

/**
 * The planner's row estimate from the top line of a text plan, e.g. `Seq Scan on docs t
 * (cost=0.00..1487.00 rows=2500 width=4)`; 0 when there is none (the count then decides). The
 * text format, as JSON took twice as long (0.70 against 0.37 ms on the bench).
 */
export const planRows = (line: string): number => Number(/\brows=(\d+)/.exec(line)?.[1] ?? 0);

/**
 * How many records a filter matches (up to EXACT_BELOW + 1), remembered per model and filter for
 * a few seconds: a search repeating a filter (a RAG over one category, one tenant) skips the count,
 * ~2–3 ms on the 10,000-record bench. The count only picks the strategy, so a stale one costs time,
 * never results: a filter that came to match more than remembered is still scanned exactly; one
 * that came to match fewer makes the index return short, and the exact scan answers then.
 */
const COUNT_TTL_MS = 10_000;
const COUNTS_KEPT = 1000;
export class MatchCounts {
  private readonly counts = new Map<string, { n: number; until: number }>();
  async get(key: string, count: () => Promise<number>): Promise<number> {
    const now = Date.now();
    const hit = this.counts.get(key);
    if (hit && hit.until > now) return hit.n;
    const n = await count();
    this.counts.delete(key);
    if (this.counts.size >= COUNTS_KEPT) this.counts.delete(this.counts.keys().next().value!);
    this.counts.set(key, { n, until: now + COUNT_TTL_MS });
    return n;
  }
}
const matchCountsByDb = new WeakMap<object, MatchCounts>();
function matchCounts(ctx: VectorsContext): MatchCounts {
  let m = matchCountsByDb.get(ctx.db);
  if (!m) matchCountsByDb.set(ctx.db, (m = new MatchCounts()));
  return m;
}

/** pgvector 0.8 keeps scanning the HNSW graph until enough rows pass a filter (hnsw.iterative_scan). */
const iterative = new WeakMap<object, Promise<boolean>>();
function iterativeScans(ctx: VectorsContext): Promise<boolean> {
  let p = iterative.get(ctx.db);
  if (!p) {
    p = sql<{ v: string }>`select extversion as v from pg_extension where extname = 'vector'`.execute(ctx.db).then((r) => {
      const [major = 0, minor = 0] = (r.rows[0]?.v ?? '0.0').split('.').map(Number);
      return major > 0 || minor >= 8;
    });
    iterative.set(ctx.db, p);
  }
  return p;
}
