import type { Kysely } from 'kysely';
import { executionSeries, requestSeries, tokenSeries, type StatsWindow } from './observability.repo.js';

/** Bucket sizes the dashboard may ask for, seconds. */
export const INTERVALS: Record<string, number> = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '6h': 21_600, '1d': 86_400 };
export const MAX_BUCKETS = 1000;

/** The smallest preset interval that cuts the window into at most 300 buckets. */
export function autoInterval(from: Date, to: Date): number {
  const span = (to.getTime() - from.getTime()) / 1000;
  return Object.values(INTERVALS).find((s) => span / s <= 300) ?? 86_400;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 100) / 100);
const percentiles = (p: number[] | string | null): (number | null)[] => {
  if (p === null) return [null, null, null];
  const arr = typeof p === 'string' ? p.replace(/[{}]/g, '').split(',').map(Number) : p;
  return [num(arr[0]), num(arr[1]), num(arr[2])];
};

/**
 * The series the dashboard charts: requests (volume, error rate, latency percentiles), executions
 * by status and LLM tokens, one point per bucket from `from` to `to` (empty buckets are zeros).
 */
export async function stats(db: Kysely<object>, w: StatsWindow) {
  const [req, exe, tok] = await Promise.all([requestSeries(db, w), executionSeries(db, w), tokenSeries(db, w)]);
  const step = w.intervalSeconds * 1000;
  const buckets: number[] = [];
  for (let t = w.from.getTime(); t < w.to.getTime(); t += step) buckets.push(t);
  const index = (d: Date) => Math.floor((new Date(d).getTime() - w.from.getTime()) / step);
  const requests = buckets.map((t) => ({
    t: new Date(t).toISOString(),
    count: 0,
    errors: 0,
    clientErrors: 0,
    errorRate: 0,
    p50: null as number | null,
    p95: null as number | null,
    p99: null as number | null,
  }));
  for (const r of req) {
    const b = requests[index(r.t)];
    if (!b) continue;
    const [p50, p95, p99] = percentiles(r.p);
    Object.assign(b, {
      count: r.requests,
      errors: r.errors,
      clientErrors: r.client_errors,
      errorRate: r.requests ? Math.round((r.errors / r.requests) * 10_000) / 10_000 : 0,
      p50,
      p95,
      p99,
    });
  }
  const statuses = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'canceled'] as const;
  const executions = buckets.map(
    (t) => ({ t: new Date(t).toISOString(), ...Object.fromEntries(statuses.map((s) => [s, 0])) }) as { t: string } & Record<(typeof statuses)[number], number>,
  );
  for (const e of exe) {
    const b = executions[index(e.t)];
    if (b && (statuses as readonly string[]).includes(e.status)) b[e.status as (typeof statuses)[number]] += e.n;
  }
  const tokens = buckets.map((t) => ({ t: new Date(t).toISOString(), input: 0, output: 0, calls: 0 }));
  for (const k of tok) {
    const b = tokens[index(k.t)];
    if (b) Object.assign(b, { input: Number(k.input), output: Number(k.output), calls: k.calls });
  }
  const totalRequests = requests.reduce((a, b) => a + b.count, 0);
  const totalErrors = requests.reduce((a, b) => a + b.errors, 0);
  return {
    from: w.from.toISOString(),
    to: w.to.toISOString(),
    intervalSeconds: w.intervalSeconds,
    requests,
    executions,
    tokens,
    totals: {
      requests: totalRequests,
      errors: totalErrors,
      errorRate: totalRequests ? Math.round((totalErrors / totalRequests) * 10_000) / 10_000 : 0,
      executions: executions.reduce((a, b) => a + statuses.reduce((x, s) => x + b[s], 0), 0),
      tokens: tokens.reduce((a, b) => a + b.input + b.output, 0),
    },
  };
}
