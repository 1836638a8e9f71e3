import { setImmediate as nextTurn } from 'node:timers/promises';
import { type Kysely, sql } from 'kysely';
import { type Notifier, ident, vectorLiteral } from '../../platform/db/index.js';
import { AppError } from '../../platform/errors.js';
import type { EventBus } from '../../platform/events/index.js';
import type { Logger } from '../../platform/logger.js';
import type { OrgActor } from '../access/index.js';
import type { EmbeddingConfig, ModelCache, ModelDef } from '../schema/index.js';
import { type AiContext, embedTexts } from './ai.service.js';

/**
 * The embedding worker. A model's table is its own queue: a row is pending while the hash of its
 * source fields (_emb_src, computed by Postgres on every write) differs from the hash its vector
 * was made from (_emb_hash). Workers claim pending rows with a lease (FOR UPDATE SKIP LOCKED, so
 * several processes share the work; the embedded database's one worker just reads them), embed
 * them in batches, and store vector and hash in one update. A failure keeps the row pending with
 * its reason and a doubling back-off; after MAX_ATTEMPTS failures of the same content the row
 * counts as failed until its content changes. Unchanged content is never embedded twice; deletes
 * need no work.
 */
export const EMBEDDINGS_CHANNEL = 'infinity_embeddings';
const MAX_ATTEMPTS = 5;
const LEASE_SECONDS = 120;

interface EnabledModel {
  orgId: string;
  schema: string;
  name: string;
  embedding: EmbeddingConfig;
}

export interface EmbeddingWorkerDeps {
  db: Kysely<object>;
  ai: AiContext;
  notifier: Notifier;
  events: EventBus;
  cache: ModelCache;
  logger: Logger;
  vector: boolean;
  batch: number;
  pollMs: number;
  /** Vacuum a table after a run that embedded at least this many rows (embedded database: no autovacuum). 0 = never. */
  vacuumAfter: number;
  /**
   * Embedded database (no autovacuum): during a run, every this many rows, a vacuum without index
   * passes makes the dead row versions' space reusable, so the next batches fill it instead of
   * growing the table (a 10,000-row back-fill: 8.8 MB instead of 22.5). 0 = never.
   */
  reclaimEvery: number;
  /** Run batches in this process (roles all and worker); other roles only announce work. */
  work: boolean;
  /**
   * Whether workers in other processes claim rows too (PostgreSQL): a claim then takes a lease.
   * The embedded database is opened by one process, whose worker runs one batch at a time, so
   * there a claim is a plain read and each embedded row is written once (its result), not twice —
   * a back-fill leaves one dead row version per row instead of two, and its table stays smaller.
   */
  shared: boolean;
}

const serviceActor = (orgId: string): OrgActor => ({ kind: 'service', service: 'embeddings', orgId, role: 'editor' });
const tbl = (m: { schema: string; name: string }) => ident(m.schema, m.name);
const pendingWhere = sql`_emb_hash is distinct from _emb_src and (_emb_lease is null or _emb_lease < now()) and not (_emb_fail_src is not distinct from _emb_src and _emb_attempts >= ${MAX_ATTEMPTS})`;

export class EmbeddingWorker {
  private off: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private announced = false;
  private readonly abort = new AbortController();

  constructor(private readonly d: EmbeddingWorkerDeps) {}

  start(): void {
    // Typed record events (delivered after commit): a write to an embedded model means work.
    this.off.push(this.d.events.subscribe('record.created', (e) => this.onRecord(e.orgId, e.model), { local: true }));
    this.off.push(this.d.events.subscribe('record.updated', (e) => this.onRecord(e.orgId, e.model), { local: true }));
    if (!this.d.work) return;
    this.off.push(this.d.notifier.subscribe(EMBEDDINGS_CHANNEL, () => this.wake()));
    this.timer = setInterval(() => this.wake(), this.d.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** A record of an embedded model changed: tell the workers (once per tick, however many records). */
  private async onRecord(orgId: string, model: string): Promise<void> {
    if (this.announced) return;
    const m = (await this.d.cache.get(orgId)).byName.get(model);
    if (!m?.embedding?.enabled || this.announced) return;
    this.announced = true;
    setImmediate(() => {
      this.announced = false;
      void this.d.notifier.publish(EMBEDDINGS_CHANNEL, '').catch((err: unknown) => this.d.logger.warn({ err }, 'could not announce embedding work'));
    });
  }

  /** Runs until no model has claimable rows; a wake during a run runs it again. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          for (const m of await this.enabledModels()) {
            let done = 0;
            // Yield to the event loop between batches: the embedded database runs queries on this
            // thread, so back-to-back batches would otherwise starve every HTTP request.
            // Each embedded row leaves a dead row version (two with a lease). PostgreSQL's autovacuum
            // cleans them up; the embedded database has none, so it reclaims their space as it goes
            // and a long run ends with a full vacuum.
            for (let n = 1, since = 0; n > 0 && !this.stopped; await nextTurn()) {
              done += n = await this.batchOnce(m);
              since += n;
              if (this.d.reclaimEvery && since >= this.d.reclaimEvery && !this.stopped) {
                since = 0;
                await sql`vacuum (index_cleanup off) ${tbl(m)}`.execute(this.d.db);
              }
            }
            if (this.d.vacuumAfter && done >= this.d.vacuumAfter && !this.stopped) await sql`vacuum (analyze) ${tbl(m)}`.execute(this.d.db);
          }
        } catch (err) {
          if (!this.stopped) this.d.logger.error({ err }, 'embedding worker');
        }
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
  }

  /** Runs now and resolves when nothing is claimable (rows backing off after a failure wait). */
  async drain(): Promise<void> {
    this.wake();
    await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    clearInterval(this.timer);
    for (const f of this.off) f();
    await this.running;
  }

  private async enabledModels(): Promise<EnabledModel[]> {
    const r = await sql<{ org_id: string; schema_name: string; name: string; embedding: EmbeddingConfig }>`
      select m.org_id, o.schema_name, m.name, m.embedding from models m join organizations o on o.id = m.org_id
      where (m.embedding ->> 'enabled')::boolean order by m.org_id, m.name`.execute(this.d.db);
    return r.rows.map((x) => ({ orgId: x.org_id, schema: x.schema_name, name: x.name, embedding: x.embedding }));
  }

  /** Claims, embeds and stores one batch; returns how many rows it claimed. */
  private async batchOnce(m: EnabledModel): Promise<number> {
    const e = m.embedding;
    type Claimed = Record<string, unknown> & { id: string; _emb_src: string };
    const columns = sql`t.id, t._emb_src, ${sql.join(e.sourceFields.map((f) => ident('t', f)))}`;
    const claimed = await (
      this.d.shared
        ? sql<Claimed>`
          with claim as (select id from ${tbl(m)} where ${pendingWhere} order by id limit ${this.d.batch} for update skip locked)
          update ${tbl(m)} as t set _emb_lease = now() + make_interval(secs => ${LEASE_SECONDS})
          from claim where t.id = claim.id returning ${columns}`
        : sql<Claimed>`select ${columns} from ${tbl(m)} as t where ${pendingWhere} order by id limit ${this.d.batch}`
    )
      .execute(this.d.db)
      .catch((err: unknown) => {
        // The model changed under us (embeddings disabled, table renamed): the next run sees it.
        if (['42703', '42P01'].includes((err as { code?: string }).code ?? '')) return { rows: [] };
        throw err;
      });
    const rows = claimed.rows;
    if (!rows.length) return 0;
    const texts = rows.map((r) =>
      e.sourceFields
        .map((f) => r[f])
        .filter((v) => v !== null && v !== undefined && v !== '')
        .join('\n'),
    );
    const todo = rows.map((r, i) => ({ id: r.id, hash: r._emb_src, text: texts[i]! }));
    const nonEmpty = todo.filter((t) => t.text.trim() !== '');
    try {
      const vectors = nonEmpty.length
        ? await embedTexts(
            this.d.ai,
            serviceActor(m.orgId),
            e,
            nonEmpty.map((t) => t.text),
            `embeddings ${m.name}`,
            this.abort.signal,
          )
        : [];
      const byId = new Map(nonEmpty.map((t, i) => [t.id, vectors[i]!]));
      const cast = this.d.vector ? sql.raw(`vector(${e.dimensions})`) : sql.raw('real[]');
      await sql`
        update ${tbl(m)} as t set _embedding = v.e::${cast}, _emb_hash = v.h, _emb_lease = null, _emb_attempts = 0, _emb_fail_src = null, _emb_error = null
        from unnest(${todo.map((t) => t.id)}::uuid[], ${todo.map((t) => t.hash)}::text[], ${todo.map((t) => {
          const v = byId.get(t.id);
          return v ? vectorLiteral(v, this.d.vector) : null;
        })}::text[]) as v(id, h, e)
        where t.id = v.id`.execute(this.d.db);
    } catch (err) {
      if (this.stopped) return 0;
      const retryable = !(err instanceof AppError) || (err.details as { retryable?: boolean } | undefined)?.retryable !== false;
      const reason = err instanceof AppError ? err.message : 'internal error (see the server log)';
      if (!(err instanceof AppError)) this.d.logger.error({ err, model: m.name }, 'embedding batch failed');
      await sql`
        update ${tbl(m)} set
          _emb_attempts = case when not ${retryable}::boolean then ${MAX_ATTEMPTS} when _emb_fail_src is not distinct from _emb_src then _emb_attempts + 1 else 1 end,
          _emb_fail_src = _emb_src, _emb_error = ${reason.slice(0, 500)},
          _emb_lease = now() + make_interval(secs => power(2, least(_emb_attempts + 1, 8))::int)
        where id = any(${rows.map((r) => r.id)}::uuid[])`.execute(this.d.db);
      return 0;
    }
    return rows.length;
  }
}

/** Where a model's embeddings stand (SPEC §4: total, done, pending, failed with reasons). */
export async function embeddingStatus(db: Kysely<object>, schema: string, model: ModelDef) {
  const e = model.embedding;
  const settings = e
    ? { enabled: e.enabled, provider: e.provider, model: e.model, dimensions: e.dimensions, sourceFields: e.sourceFields, secretId: e.secretId }
    : { enabled: false };
  if (!e?.enabled) return { ...settings, total: 0, done: 0, pending: 0, failed: 0, failures: [] as { reason: string; count: number }[] };
  const t = ident(schema, model.name);
  const failedWhere = sql`_emb_hash is distinct from _emb_src and _emb_fail_src is not distinct from _emb_src and _emb_attempts >= ${MAX_ATTEMPTS}`;
  const [counts, reasons] = await Promise.all([
    sql<{ total: number; done: number; failed: number; retrying: number }>`
      select count(*)::int as total,
        count(*) filter (where _emb_hash = _emb_src)::int as done,
        count(*) filter (where ${failedWhere})::int as failed,
        count(*) filter (where _emb_hash is distinct from _emb_src and _emb_error is not null)::int as retrying
      from ${t}`.execute(db),
    sql<{ reason: string; count: number; final: boolean }>`
      select _emb_error as reason, count(*)::int as count, bool_and(${failedWhere}) as final from ${t}
      where _emb_hash is distinct from _emb_src and _emb_error is not null group by _emb_error order by count(*) desc limit 10`.execute(db),
  ]);
  const c = counts.rows[0] ?? { total: 0, done: 0, failed: 0, retrying: 0 };
  return {
    ...settings,
    total: c.total,
    done: c.done,
    pending: c.total - c.done - c.failed,
    failed: c.failed,
    failures: reasons.rows.map((r) => ({ reason: r.reason, count: r.count, final: r.final })),
  };
}
