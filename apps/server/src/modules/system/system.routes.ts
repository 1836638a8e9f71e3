import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import type { App } from '../../platform/http/index.js';
import type { DatabaseInfo } from '../../platform/db/index.js';
import { VERSION } from '../../version.js';

export interface SystemContext {
  db: Kysely<object>;
  info: DatabaseInfo;
  /** True once shutdown has begun: readiness fails so load balancers stop sending traffic. */
  draining: () => boolean;
}

export function systemRoutes(ctx: SystemContext) {
  return async (app: App) => {
    app.get('/health/live', {
      config: { access: { public: true } },
      schema: { operationId: 'checkLiveness', tags: ['health'], summary: 'The process is up', response: { 200: z.object({ status: z.literal('ok') }) } },
      handler: async () => ({ status: 'ok' as const }),
    });

    app.get('/health/ready', {
      config: { access: { public: true } },
      schema: {
        operationId: 'checkReadiness',
        tags: ['health'],
        summary: 'The process can serve: database reachable, not shutting down',
        response: {
          200: z.object({
            status: z.literal('ok'),
            version: z.string(),
            database: z.object({ kind: z.string(), vector: z.boolean(), vectorMode: z.string() }),
          }),
          503: z.object({ status: z.literal('unavailable'), reason: z.string() }),
        },
      },
      handler: async (_request, reply) => {
        if (ctx.draining()) return reply.status(503).send({ status: 'unavailable' as const, reason: 'shutting down' });
        try {
          await Promise.race([sql`select 1`.execute(ctx.db), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref())]);
        } catch {
          return reply.status(503).send({ status: 'unavailable' as const, reason: 'database unreachable' });
        }
        return {
          status: 'ok' as const,
          version: VERSION,
          database: {
            kind: ctx.info.kind,
            vector: ctx.info.vector,
            vectorMode: !ctx.info.vector
              ? 'real[] exact scan (pgvector not installed)'
              : ctx.info.vectorSimd?.on
                ? 'pgvector (HNSW, SIMD inner product)'
                : 'pgvector (HNSW)',
          },
        };
      },
    });
  };
}
