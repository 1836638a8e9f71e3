import { z } from 'zod';
import { type App, emptyBody } from '../../platform/http/index.js';
import { type AdminContext, backupInstance, rotateMasterKey, verifyAudit } from './admin.js';

/** Loopback operations for `infinity` CLI commands while this server holds the embedded database. */
export function adminRoutes(ctx: AdminContext) {
  return async (app: App) => {
    app.post('/internal/admin/keys-rotate', {
      config: { access: { instance: true } },
      schema: { hide: true, body: emptyBody },
      handler: async () => ({ data: await rotateMasterKey(ctx) }),
    });
    app.post('/internal/admin/audit-verify', {
      config: { access: { instance: true } },
      schema: { hide: true, body: z.strictObject({ orgId: z.uuid().optional() }).nullish() },
      handler: async (request) => ({ data: await verifyAudit(ctx, request.body?.orgId) }),
    });
    app.post('/internal/admin/backup', {
      config: { access: { instance: true } },
      schema: { hide: true, body: z.strictObject({ out: z.string().min(1).max(4096), orgId: z.uuid().optional() }) },
      handler: async (request) => ({ data: await backupInstance(ctx, { out: request.body.out, orgId: request.body.orgId }) }),
    });
  };
}
