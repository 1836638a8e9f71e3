import { z } from 'zod';
import { type App, emptyBody } from '../../platform/http/index.js';
import { type AdminContext, rotateMasterKey, verifyAudit } from './admin.js';

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
  };
}
