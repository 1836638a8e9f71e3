import { type Kysely, sql } from 'kysely';
import type { ColumnType, Generated } from 'kysely';

export interface RequestLogTable {
  id: Generated<string>;
  at: Date;
  request_id: string;
  method: string;
  route: string | null;
  status: number;
  duration_ms: number;
  bytes: number;
  org_id: string | null;
  actor_kind: string | null;
  actor_id: string | null;
  ip: string | null;
}

export interface AppLogTable {
  id: Generated<string>;
  at: Date;
  level: string;
  service: string;
  request_id: string | null;
  org_id: string | null;
  message: string;
  data: ColumnType<Record<string, unknown>, string, never>;
}

export interface LogTables {
  request_log: RequestLogTable;
  app_log: AppLogTable;
}

export type RequestEntry = Omit<RequestLogTable, 'id'>;
export type AppEntry = Omit<AppLogTable, 'id' | 'data'> & { data: Record<string, unknown> };

/** Fields of a log line kept as data of an app-log row (the rest are columns, or noise). */
const SKIP = new Set(['level', 'time', 'msg', 'service', 'requestId', 'org', 'pid', 'hostname']);
const MAX_DATA = 16 * 1024;

/** A pino JSON line (warn or worse) as an app-log row, or null when it is not one. */
export function appEntryOf(line: string): AppEntry | null {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof o.level !== 'string' || (o.level !== 'warn' && o.level !== 'error' && o.level !== 'fatal')) return null;
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!SKIP.has(k)) data[k] = v;
  let json = JSON.stringify(data);
  if (json.length > MAX_DATA) json = JSON.stringify({ truncated: true, head: json.slice(0, MAX_DATA) });
  const org = typeof o.org === 'string' && /^[0-9a-f-]{36}$/i.test(o.org) ? o.org : null;
  return {
    at: typeof o.time === 'string' ? new Date(o.time) : new Date(),
    level: o.level,
    service: typeof o.service === 'string' ? o.service : 'infinity',
    request_id: typeof o.requestId === 'string' ? o.requestId.slice(0, 64) : null,
    org_id: org,
    message: typeof o.msg === 'string' ? o.msg.slice(0, 4000) : '',
    data: JSON.parse(json) as Record<string, unknown>,
  };
}

/**
 * The request log and the app log, written in batches off the request path: a request only
 * pushes a row into memory; a timer (or a full buffer) writes them with one INSERT. Rows still
 * buffered when the process is killed are lost (they are diagnostics, not data).
 */
export class LogStore {
  private requests: RequestEntry[] = [];
  private apps: AppEntry[] = [];
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private pruner: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<LogTables>,
    private readonly o: { flushMs: number; maxBuffer: number; retentionDays: number; onError: (err: unknown) => void },
  ) {}

  /** Writes buffered rows every `flushMs` (a full buffer writes at once) and prunes old rows hourly. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.o.flushMs);
    this.timer.unref();
    this.pruner = setInterval(() => void this.prune().catch(this.o.onError), 3_600_000);
    this.pruner.unref();
  }

  request(e: RequestEntry): void {
    this.requests.push(e);
    if (this.requests.length >= this.o.maxBuffer) void this.flush();
  }

  app(e: AppEntry): void {
    // A flood of errors (a dead database) must not grow memory without bound.
    if (this.apps.length >= this.o.maxBuffer * 4) return;
    this.apps.push(e);
    if (this.apps.length >= this.o.maxBuffer) void this.flush();
  }

  /** Writes what is buffered; concurrent callers share one write. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (!this.requests.length && !this.apps.length) return;
    const requests = this.requests.splice(0);
    const apps = this.apps.splice(0);
    this.flushing = (async () => {
      try {
        for (let i = 0; i < requests.length; i += 1000)
          await this.db
            .insertInto('request_log')
            .values(requests.slice(i, i + 1000))
            .execute();
        for (let i = 0; i < apps.length; i += 500)
          await this.db
            .insertInto('app_log')
            .values(apps.slice(i, i + 500).map((a) => ({ ...a, data: JSON.stringify(a.data) })))
            .execute();
      } catch (err) {
        // NB: not logged at warn (that line would be queued here again, in a loop).
        this.o.onError(err);
      }
    })().finally(() => (this.flushing = null));
    await this.flushing;
  }

  async prune(now = new Date()): Promise<void> {
    const before = new Date(now.getTime() - this.o.retentionDays * 86_400_000);
    await sql`delete from request_log where at < ${before}`.execute(this.db);
    await sql`delete from app_log where at < ${before}`.execute(this.db);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.pruner);
    this.timer = this.pruner = undefined;
    await this.flush();
  }
}
