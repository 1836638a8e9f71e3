import { listMetaSchema } from '@infinity/contracts';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { type App, csvList, cursorPageQuery, isoDate, listCursor, listMeta } from '../../platform/http/index.js';
import { orgActorOf } from '../access/index.js';
import { exportAudit, listAudit } from './audit.service.js';

const entrySchema = z.object({
  id: z.string(),
  seq: z.number(),
  at: isoDate,
  actor: z.object({ type: z.string(), id: z.string().nullable() }),
  action: z.string(),
  target: z.object({ type: z.string(), id: z.string() }).nullable(),
  ip: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  hash: z.string(),
});

const auditFilters = z.strictObject({
  action: csvList.optional().describe('Comma list of actions, e.g. API_KEY_CREATE,SECRET_USE'),
  actorId: z.string().max(100).optional(),
  targetId: z.string().max(100).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});
const auditQuery = auditFilters.extend(cursorPageQuery.shape);
/** Entries are newest first by seq, unique in an organization: the cursor is the last seq read. */
const auditCursor = listCursor('audit', ['bigint']);

function filtersOf(q: z.output<typeof auditFilters>) {
  return {
    ...(q.action ? { action: q.action } : {}),
    ...(q.actorId ? { actorId: q.actorId } : {}),
    ...(q.targetId ? { targetId: q.targetId } : {}),
    ...(q.from ? { from: new Date(q.from) } : {}),
    ...(q.to ? { to: new Date(q.to) } : {}),
  };
}

export function auditRoutes(db: Kysely<object>) {
  return async (app: App) => {
    app.get('/api/v1/audit', {
      config: { access: { permission: 'audit:read' } },
      schema: {
        operationId: 'listAuditEntries',
        tags: ['audit'],
        summary: 'Audit log of this organization, newest first',
        querystring: auditQuery,
        response: { 200: z.object({ data: z.array(entrySchema), meta: listMetaSchema }) },
      },
      handler: async (request) => {
        const q = request.query;
        const after = auditCursor.decode(q);
        const { entries, total, next } = await listAudit(db, orgActorOf(request), {
          ...filtersOf(q),
          limit: q.limit,
          offset: q.offset,
          beforeSeq: after ? Number(after[0]) : undefined,
        });
        return { data: entries, meta: listMeta(total, q.limit, q.offset, next === null ? null : auditCursor.encode([String(next)])) };
      },
    });
    app.get('/api/v1/audit/export', {
      config: { access: { permission: 'audit:read' } },
      schema: {
        operationId: 'exportAuditLog',
        tags: ['audit'],
        summary: 'The audit log as a CSV or JSON file, oldest first (at most 100,000 entries; narrow with from/to/action). Audited as AUDIT_EXPORT.',
        querystring: auditFilters.extend({ format: z.enum(['csv', 'json']).default('csv') }),
      },
      handler: async (request, reply) => {
        const q = request.query;
        const { body } = await exportAudit(db, orgActorOf(request), filtersOf(q), q.format, request.ip);
        const day = new Date().toISOString().slice(0, 10);
        return reply
          .type(q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
          .header('content-disposition', `attachment; filename="audit-${day}.${q.format}"`)
          .send(body);
      },
    });
  };
}
