import { type Kysely, sql } from 'kysely';
import { keyText, keyValue } from '../../platform/db/index.js';
import type { LogTables } from './log-store.js';

type Db = Kysely<LogTables>;

export interface LogFilter {
  orgId: string;
  from?: Date | undefined;
  to?: Date | undefined;
  route?: string | undefined;
  method?: string | undefined;
  status?: { min: number; max: number } | undefined;
  level?: 'warn' | 'error' | 'fatal' | undefined;
  q?: string | undefined;
  requestId?: string | undefined;
  limit: number;
  offset: number;
  /** Keyset: only lines after this (at as exact text, id) in the list's order, newest first. */
  after?: string[] | undefined;
}

const afterKey = (f: LogFilter) => sql<boolean>`(at, id) < (${keyValue('timestamptz', f.after![0]!)}, ${keyValue('bigint', f.after![1]!)})`;
const cursorAt = keyText(sql.ref('at')).as('cursor_at');

const like = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
const LEVELS = { warn: ['warn', 'error', 'fatal'], error: ['error', 'fatal'], fatal: ['fatal'] } as const;

export async function findRequests(db: Db, f: LogFilter) {
  let q = db.selectFrom('request_log').where('org_id', '=', f.orgId);
  if (f.from) q = q.where('at', '>=', f.from);
  if (f.to) q = q.where('at', '<', f.to);
  if (f.route) q = q.where('route', '=', f.route);
  if (f.method) q = q.where('method', '=', f.method);
  if (f.status) q = q.where('status', '>=', f.status.min).where('status', '<=', f.status.max);
  if (f.requestId) q = q.where('request_id', '=', f.requestId);
  if (f.q) {
    const p = like(f.q);
    q = q.where((eb) => eb.or([eb('route', 'ilike', p), eb('request_id', 'ilike', p), eb('ip', 'ilike', p), eb('actor_id', 'ilike', p)]));
  }
  const page = f.after ? q.where(afterKey(f)) : q;
  const [rows, total] = await Promise.all([
    page.selectAll().select(cursorAt).orderBy('at', 'desc').orderBy('id', 'desc').limit(f.limit).offset(f.offset).execute(),
    q.select(sql<string>`count(*)`.as('n')).executeTakeFirst(),
  ]);
  return { rows, total: Number(total?.n ?? 0) };
}

export async function findAppLines(db: Db, f: LogFilter) {
  let q = db.selectFrom('app_log').where('org_id', '=', f.orgId);
  if (f.from) q = q.where('at', '>=', f.from);
  if (f.to) q = q.where('at', '<', f.to);
  if (f.level) q = q.where('level', 'in', [...LEVELS[f.level]]);
  if (f.requestId) q = q.where('request_id', '=', f.requestId);
  if (f.q) {
    const p = like(f.q);
    q = q.where((eb) => eb.or([eb('message', 'ilike', p), eb(sql<string>`data::text`, 'ilike', p)]));
  }
  const page = f.after ? q.where(afterKey(f)) : q;
  const [rows, total] = await Promise.all([
    page.selectAll().select(cursorAt).orderBy('at', 'desc').orderBy('id', 'desc').limit(f.limit).offset(f.offset).execute(),
    q.select(sql<string>`count(*)`.as('n')).executeTakeFirst(),
  ]);
  return { rows, total: Number(total?.n ?? 0) };
}

export interface StatsWindow {
  orgId: string;
  from: Date;
  to: Date;
  intervalSeconds: number;
}

const bin = (w: StatsWindow, col: string) => sql`date_bin(${`${w.intervalSeconds} seconds`}::interval, ${sql.ref(col)}, ${w.from}::timestamptz)`;

export async function requestSeries(db: Kysely<object>, w: StatsWindow) {
  const r = await sql<{ t: Date; requests: number; errors: number; client_errors: number; p: number[] | string }>`
    select ${bin(w, 'at')} as t, count(*)::int as requests,
      (count(*) filter (where status >= 500))::int as errors,
      (count(*) filter (where status >= 400 and status < 500))::int as client_errors,
      percentile_cont(array[0.5, 0.95, 0.99]) within group (order by duration_ms) as p
    from request_log where org_id = ${w.orgId} and at >= ${w.from} and at < ${w.to}
    group by 1 order by 1`.execute(db);
  return r.rows;
}

export async function executionSeries(db: Kysely<object>, w: StatsWindow) {
  const r = await sql<{ t: Date; status: string; n: number }>`
    select ${bin(w, 'created_at')} as t, status, count(*)::int as n
    from executions where org_id = ${w.orgId} and created_at >= ${w.from} and created_at < ${w.to} and parent_id is null
    group by 1, 2 order by 1`.execute(db);
  return r.rows;
}

export async function tokenSeries(db: Kysely<object>, w: StatsWindow) {
  const r = await sql<{ t: Date; input: string; output: string; calls: number }>`
    select ${bin(w, 'created_at')} as t, sum(input_tokens) as input, sum(output_tokens) as output, count(*)::int as calls
    from ai_usage where org_id = ${w.orgId} and created_at >= ${w.from} and created_at < ${w.to}
    group by 1 order by 1`.execute(db);
  return r.rows;
}
