import { listMetaSchema } from '@infinity/contracts';
import { z } from 'zod';
import type { Kysely } from 'kysely';
import { type App, emptyBody, idParams, listMeta, pageQuery } from '../../platform/http/index.js';
import { orgActorOf } from '../access/index.js';
import type { Quotas } from './quotas.js';
import { usageErrors } from './usage.errors.js';
import { type UsageTables, listNotifications, markRead, notificationExists } from './usage.repo.js';

/** The month's model usage per provider and model, from the AI module. */
export type TokenBreakdown = (orgId: string) => Promise<Record<string, unknown>>;

const metricSchema = z.object({
  metric: z.string(),
  label: z.string(),
  used: z.number(),
  limit: z.number().nullable().describe('null = unlimited'),
  percent: z.number().nullable(),
  period: z.object({ from: z.string(), to: z.string() }).nullable().describe('monthly metrics: the calendar month (UTC) they count'),
});
const notificationSchema = z.object({
  id: z.string(),
  kind: z.string(),
  title: z.string(),
  body: z.string(),
  data: z.record(z.string(), z.unknown()),
  read: z.boolean(),
  createdAt: z.string(),
});

export function usageRoutes(quotas: Quotas, deps: { db: Kysely<UsageTables>; tokens: TokenBreakdown }) {
  return async (app: App) => {
    app.get('/api/v1/usage', {
      config: { access: { permission: 'usage:read' } },
      schema: {
        operationId: 'getUsage',
        tags: ['usage'],
        summary: 'The organization’s plan, each metric with its limit and period, and this month’s model usage per provider and model',
        response: { 200: z.object({ data: z.object({ plan: z.string(), metrics: z.array(metricSchema), tokens: z.record(z.string(), z.unknown()) }) }) },
      },
      handler: async (request) => {
        const orgId = orgActorOf(request).orgId;
        const [report, tokens] = await Promise.all([quotas.report(orgId), deps.tokens(orgId)]);
        return { data: { ...report, tokens } };
      },
    });

    app.get('/api/v1/notifications', {
      config: { access: { permission: 'notifications:read' } },
      schema: {
        operationId: 'listNotifications',
        tags: ['usage'],
        summary: 'In-app notifications of the organization (usage alerts, …), newest first',
        querystring: pageQuery.extend({ unread: z.enum(['true', 'false']).optional() }),
        response: { 200: z.object({ data: z.array(notificationSchema), meta: listMetaSchema.extend({ unread: z.number() }) }) },
      },
      handler: async (request) => {
        const { limit, offset, unread } = request.query;
        const r = await listNotifications(deps.db, orgActorOf(request).orgId, { limit, offset, unread: unread === 'true' });
        return {
          data: r.rows.map((n) => ({
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            data: n.data,
            read: n.read_at !== null,
            createdAt: n.created_at.toISOString(),
          })),
          meta: { ...listMeta(r.total, limit, offset), unread: r.unread },
        };
      },
    });

    app.post('/api/v1/notifications/:id/read', {
      config: { access: { permission: 'notifications:read' } },
      schema: {
        operationId: 'markNotificationRead',
        tags: ['usage'],
        summary: 'Mark one notification read',
        params: idParams,
        body: emptyBody,
        response: { 200: z.object({ data: z.object({ updated: z.number() }) }) },
      },
      handler: async (request) => {
        const orgId = orgActorOf(request).orgId;
        if (!(await notificationExists(deps.db, orgId, request.params.id))) throw usageErrors.NOTIFICATION_NOT_FOUND();
        return { data: { updated: await markRead(deps.db, orgId, request.params.id) } };
      },
    });

    app.post('/api/v1/notifications/read-all', {
      config: { access: { permission: 'notifications:read' } },
      schema: {
        operationId: 'markAllNotificationsRead',
        tags: ['usage'],
        summary: 'Mark every notification read',
        body: emptyBody,
        response: { 200: z.object({ data: z.object({ updated: z.number() }) }) },
      },
      handler: async (request) => ({ data: { updated: await markRead(deps.db, orgActorOf(request).orgId) } }),
    });
  };
}
