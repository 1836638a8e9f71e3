import { listMetaSchema } from '@infinity/contracts';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { constantTimeEqual } from '../../platform/crypto/index.js';
import { commonErrors } from '../../platform/errors.js';
import { type App, cursorPageQuery, listCursor, listMeta, pageOf } from '../../platform/http/index.js';
import { orgActorOf } from '../access/index.js';
import type { LogTables } from './log-store.js';
import type { Metrics } from './metrics.js';
import { observabilityErrors } from './observability.errors.js';
import { findAppLines, findRequests } from './observability.repo.js';
import { INTERVALS, MAX_BUCKETS, autoInterval, stats } from './stats.js';

const iso = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const statusFilter = z
  .string()
  .regex(/^([1-5]\d\d|[1-5]xx)$/, 'must be a status such as 404, or a class such as 5xx')
  .transform((s) => (s.endsWith('xx') ? { min: Number(s[0]) * 100, max: Number(s[0]) * 100 + 99 } : { min: Number(s), max: Number(s) }));

const logsQuery = cursorPageQuery.extend({
  kind: z.enum(['request', 'app']).default('request').describe('request: one row per API request; app: warning and error lines'),
  from: iso.optional(),
  to: iso.optional(),
  level: z.enum(['warn', 'error', 'fatal']).optional().describe('app lines at this level or worse'),
  route: z.string().max(300).optional().describe('a route pattern, e.g. /api/v1/data/:model'),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']).optional(),
  status: statusFilter.optional(),
  q: z.string().min(1).max(200).optional().describe('text in the route, request id, address or actor (requests); in the message or its data (app lines)'),
  requestId: z.string().max(64).optional(),
});

const requestRow = z.object({
  kind: z.literal('request'),
  id: z.string(),
  at: z.string(),
  requestId: z.string(),
  method: z.string(),
  route: z.string().nullable(),
  status: z.number(),
  durationMs: z.number(),
  bytes: z.number(),
  actor: z.object({ kind: z.string(), id: z.string().nullable() }).nullable(),
  ip: z.string().nullable(),
});
const appRow = z.object({
  kind: z.literal('app'),
  id: z.string(),
  at: z.string(),
  level: z.string(),
  service: z.string(),
  requestId: z.string().nullable(),
  message: z.string(),
  data: z.record(z.string(), z.unknown()),
});

/** Lines are newest first by (at, id); each kind has its own cursor. */
const logCursors = { request: listCursor('logs:request', ['timestamptz', 'bigint']), app: listCursor('logs:app', ['timestamptz', 'bigint']) };
const cursorOf = (kind: 'request' | 'app') => (last: { cursor_at: string | null; id: string | number }) =>
  logCursors[kind].encode([last.cursor_at!, String(last.id)]);

const statsQuery = z.strictObject({
  from: iso.optional().describe('default: 24 hours before `to`'),
  to: iso.optional().describe('default: now'),
  interval: z
    .enum(Object.keys(INTERVALS) as [string, ...string[]])
    .optional()
    .describe('bucket size; default: the smallest giving at most 300 buckets'),
});

export function observabilityRoutes(deps: { db: Kysely<LogTables>; metrics: Metrics | null; metricsToken: string | undefined }) {
  return async (app: App) => {
    app.get('/api/v1/logs', {
      config: { access: { permission: 'logs:read' } },
      schema: {
        operationId: 'listLogs',
        tags: ['operations'],
        summary: 'Request log and app log (warnings and errors) of the organization, newest first, filtered and paged',
        querystring: logsQuery,
        response: { 200: z.object({ data: z.array(z.union([requestRow, appRow])), meta: listMetaSchema }) },
      },
      handler: async (request) => {
        const q = request.query;
        const f = { ...q, orgId: orgActorOf(request).orgId, after: logCursors[q.kind].decode(q), limit: q.limit + 1 };
        if (f.kind === 'app') {
          const r = await findAppLines(deps.db, f);
          const { rows, nextCursor } = pageOf(r.rows, q.limit, cursorOf('app'));
          return {
            data: rows.map((x) => ({
              kind: 'app' as const,
              id: String(x.id),
              at: x.at.toISOString(),
              level: x.level,
              service: x.service,
              requestId: x.request_id,
              message: x.message,
              data: x.data,
            })),
            meta: listMeta(r.total, q.limit, q.offset, nextCursor),
          };
        }
        const r = await findRequests(deps.db, f);
        const { rows, nextCursor } = pageOf(r.rows, q.limit, cursorOf('request'));
        return {
          data: rows.map((x) => ({
            kind: 'request' as const,
            id: String(x.id),
            at: x.at.toISOString(),
            requestId: x.request_id,
            method: x.method,
            route: x.route,
            status: x.status,
            durationMs: x.duration_ms,
            bytes: x.bytes,
            actor: x.actor_kind ? { kind: x.actor_kind, id: x.actor_id } : null,
            ip: x.ip,
          })),
          meta: listMeta(r.total, q.limit, q.offset, nextCursor),
        };
      },
    });

    app.get('/api/v1/stats', {
      config: { access: { permission: 'stats:read' } },
      schema: {
        operationId: 'getStats',
        tags: ['operations'],
        summary: 'Dashboard series: request volume, error rate, p50/p95/p99 latency, executions by status and LLM tokens per bucket',
        querystring: statsQuery,
        response: { 200: z.object({ data: z.record(z.string(), z.unknown()) }) },
      },
      handler: async (request) => {
        const to = request.query.to ?? new Date();
        const from = request.query.from ?? new Date(to.getTime() - 86_400_000);
        if (from >= to) throw observabilityErrors.STATS_RANGE_INVALID('`from` must be before `to`.');
        const intervalSeconds = request.query.interval ? INTERVALS[request.query.interval]! : autoInterval(from, to);
        const buckets = Math.ceil((to.getTime() - from.getTime()) / 1000 / intervalSeconds);
        if (buckets > MAX_BUCKETS)
          throw observabilityErrors.STATS_RANGE_INVALID(
            `The window cut by ${request.query.interval} gives ${buckets} buckets; at most ${MAX_BUCKETS}. Choose a larger interval or a shorter window.`,
            { buckets, max: MAX_BUCKETS },
          );
        return { data: await stats(deps.db as Kysely<object>, { orgId: orgActorOf(request).orgId, from, to, intervalSeconds }) };
      },
    });

    app.get('/metrics', {
      config: { access: { public: true } },
      schema: {
        operationId: 'getMetrics',
        tags: ['operations'],
        summary: 'Prometheus metrics of this process; send "Authorization: Bearer <INFINITY_METRICS_TOKEN>"',
        hide: false,
      },
      handler: async (request, reply) => {
        if (!deps.metricsToken || !deps.metrics) throw observabilityErrors.METRICS_DISABLED('Set INFINITY_METRICS_TOKEN to enable /metrics.');
        const given = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
        if (!given || !constantTimeEqual(given, deps.metricsToken))
          throw commonErrors.UNAUTHENTICATED('Send the metrics token as "Authorization: Bearer <token>".');
        return reply.type(deps.metrics.contentType).send(await deps.metrics.text());
      },
    });
  };
}
