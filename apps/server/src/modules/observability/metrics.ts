import { sql, type Kysely } from 'kysely';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventBus } from '../../platform/events/index.js';

export interface PoolStats {
  totalCount?: number;
  idleCount?: number;
  waitingCount?: number;
}

/**
 * Prometheus metrics of one process (prom-client, one registry per app so that several apps in a
 * test process do not collide): HTTP durations by route and status, executions by status and
 * duration, queue depth, LLM tokens, the database pool and the process itself.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly http: Histogram<'method' | 'route' | 'status'>;
  private readonly tokens: Counter<'provider' | 'kind' | 'direction'>;
  private readonly off: () => void;
  private sampling = false;

  constructor(o: { db: Kysely<object>; pool: PoolStats; events: EventBus }) {
    const registers = [this.registry];
    this.http = new Histogram({
      name: 'infinity_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    const executions = new Counter({
      name: 'infinity_executions_total',
      help: 'Executions finished in this process, by status.',
      labelNames: ['status'],
      registers,
    });
    const durations = new Histogram({
      name: 'infinity_execution_duration_seconds',
      help: 'Time executions ran in this process, by final status.',
      labelNames: ['status'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers,
    });
    const ended = (status: 'succeeded' | 'failed', durationMs: number) => {
      executions.inc({ status });
      durations.observe({ status }, durationMs / 1000);
    };
    const offs = [
      // This process's executions only: every process counts its own (events from others arrive too).
      o.events.subscribe('execution.succeeded', (e) => ended('succeeded', e.durationMs), { local: true }),
      o.events.subscribe('execution.failed', (e) => ended('failed', e.durationMs), { local: true }),
    ];
    this.off = () => offs.forEach((off) => off());
    this.tokens = new Counter({
      name: 'infinity_llm_tokens_total',
      help: 'LLM and embedding tokens used through this process.',
      labelNames: ['provider', 'kind', 'direction'],
      registers,
    });
    new Gauge({
      name: 'infinity_queue_depth',
      help: 'Executions waiting in the queue (status queued), all organizations.',
      registers,
      async collect() {
        const r = await sql<{ n: string }>`select count(*) as n from executions where status = 'queued'`.execute(o.db);
        this.set(Number(r.rows[0]?.n ?? 0));
      },
    });
    new Gauge({
      name: 'infinity_db_pool_connections',
      help: 'Database pool connections by state (PostgreSQL; the embedded database has one).',
      labelNames: ['state'],
      registers,
      collect() {
        this.set({ state: 'total' }, o.pool.totalCount ?? 1);
        this.set({ state: 'idle' }, o.pool.idleCount ?? 0);
        this.set({ state: 'waiting' }, o.pool.waitingCount ?? 0);
      },
    });
  }

  /** Starts sampling the process itself (event-loop lag, GC, memory): from `built.start()`, not when the app is built. */
  start(): void {
    if (this.sampling) return;
    this.sampling = true;
    collectDefaultMetrics({ register: this.registry, prefix: 'infinity_' });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.http.observe({ method, route, status: String(status) }, seconds);
  }

  observeTokens(e: { provider: string; kind: string; inputTokens: number; outputTokens: number }): void {
    if (e.inputTokens) this.tokens.inc({ provider: e.provider, kind: e.kind, direction: 'input' }, e.inputTokens);
    if (e.outputTokens) this.tokens.inc({ provider: e.provider, kind: e.kind, direction: 'output' }, e.outputTokens);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.off();
    this.registry.clear();
  }
}
