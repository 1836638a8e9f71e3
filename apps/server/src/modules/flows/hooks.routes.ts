import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { App } from '../../platform/http/index.js';
import { jsonNestsDeeper, jsonTooDeep, uuidParam } from '../../platform/http/index.js';
import { type HttpAnswer, type RevealForFlow, receiveWebhook, runPublished } from './hooks.js';
import { type FlowsContext, resumeExecution } from './flows.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
}

const hookParams = z.object({ flowId: uuidParam, '*': z.string().max(500).optional() });
const flowOnlyParams = z.object({ flowId: uuidParam });
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const capitalized = (m: string) => m.charAt(0) + m.slice(1).toLowerCase();

/**
 * Inbound triggers. These routes keep the raw body (signatures are computed over it) and accept
 * JSON, form posts and plain text; the rest of the API stays JSON-only.
 */
export function hookRoutes(ctx: FlowsContext, opts: { reveal: RevealForFlow; bodyLimit: number }) {
  return async (app: App) => {
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: opts.bodyLimit }, (request, raw, done) => {
      const text = raw as string;
      request.rawBody = text;
      const type = request.headers['content-type'] ?? '';
      if (/json/i.test(type)) {
        if (text.trim() === '') return done(null, null);
        if (jsonNestsDeeper(text)) return done(jsonTooDeep(), undefined);
        try {
          return done(null, JSON.parse(text));
        } catch {
          const err = Object.assign(new Error('The body is not valid JSON.'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' });
          return done(err, undefined);
        }
      }
      if (/x-www-form-urlencoded/i.test(type)) return done(null, Object.fromEntries(new URLSearchParams(text)));
      return done(null, text);
    });

    const send = (reply: FastifyReply, a: HttpAnswer) => {
      for (const [k, v] of Object.entries(a.headers)) reply.header(k, v);
      return reply.status(a.status).send(a.body === undefined ? null : a.body);
    };

    const handler = async (request: FastifyRequest<{ Params: z.infer<typeof hookParams> }>, reply: FastifyReply) =>
      send(
        reply,
        await receiveWebhook(ctx, opts.reveal, request.params.flowId, {
          method: request.method,
          path: request.params['*'] ?? '',
          headers: request.headers,
          query: request.query as Record<string, unknown>,
          body: request.body ?? null,
          rawBody: request.rawBody ?? '',
          actor: request.actor,
        }),
      );
    // One route per method and URL: each is its own OpenAPI operation with its own operationId.
    for (const method of METHODS) {
      for (const withPath of [false, true]) {
        app.route({
          method,
          url: withPath ? '/api/v1/hooks/:flowId/*' : '/api/v1/hooks/:flowId',
          config: { access: { public: true, identify: true } },
          schema: {
            tags: ['triggers'],
            operationId: `callWebhook${withPath ? 'Path' : ''}${capitalized(method)}`,
            summary: `Webhook trigger of an active flow, by ${method}${withPath ? ' with a sub-path' : ''} (auth per trigger: none, API key, or HMAC signature)`,
            params: withPath ? hookParams : flowOnlyParams,
          },
          handler,
        });
      }
    }

    app.post('/api/v1/executions/:id/resume', {
      config: { access: { public: true } },
      schema: {
        operationId: 'resumeExecution',
        tags: ['executions'],
        summary: 'Continue an execution waiting at a webhook wait node ($execution.resumeUrl); the body reaches the wait node’s output',
        params: z.strictObject({ id: uuidParam }),
        querystring: z.strictObject({ token: z.string().min(10).max(100) }),
      },
      handler: async (request, reply) =>
        reply.status(202).send({ data: await resumeExecution(ctx, request.params.id, request.query.token, request.body ?? null) }),
    });

    app.post('/api/v1/run/:slug', {
      config: { access: { public: true, identify: true } },
      schema: {
        operationId: 'runPublishedFlow',
        tags: ['triggers'],
        summary: 'Run a published flow with the body as input; answers with its output',
        params: z.strictObject({ slug: z.string().min(1).max(80) }),
      },
      handler: async (request, reply) =>
        send(
          reply,
          await runPublished(ctx, request.params.slug, {
            method: request.method,
            headers: request.headers,
            query: request.query as Record<string, unknown>,
            body: request.body ?? null,
            actor: request.actor,
          }),
        ),
    });
  };
}
