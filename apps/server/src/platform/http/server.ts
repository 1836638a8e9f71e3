import cookie from '@fastify/cookie';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import cors from '@fastify/cors';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyInstance, type RawServerDefault, type FastifyBaseLogger } from 'fastify';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { commonErrors, defineErrors } from '../errors.js';
import { newId } from '../ids.js';
import type { Logger } from '../logger.js';
import type { Socket } from 'node:net';
import { sendError } from './error-handler.js';
import { jsonNestsDeeper, jsonTooDeep } from './json-depth.js';
import { openApiTransforms } from './openapi.js';
import { textGuard } from './text-guard.js';
import { securityHeaders } from './security-headers.js';

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

export interface HttpServerOptions {
  logger: Logger;
  bodyLimit: number;
  /** Connection limits (config `http`); the defaults are the documented ones. */
  http?: HttpLimits;
  corsOrigins: string[];
  trustProxy: boolean;
  publicUrl: string;
  version: string;
  /** The built web UI (apps/web/dist), served at `/` when it exists. */
  uiRoot?: string | undefined;
  /** The OpenAPI document's top-level `webhooks` (what outbound deliveries carry). */
  openapiWebhooks?: Record<string, unknown>;
  /** Told of every finished request (request log, metrics); must not throw or block. */
  observe?: (r: ObservedRequest) => void;
}

/** One finished request as the request log and metrics see it: never a body, a header or a query string. */
export interface ObservedRequest {
  at: Date;
  requestId: string;
  method: string;
  route: string | null;
  status: number;
  durationMs: number;
  bytes: number;
  orgId: string | null;
  actorKind: string | null;
  actorId: string | null;
  ip: string;
}

export interface HttpLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  maxHeaderSize: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { headersTimeoutMs: 20_000, requestTimeoutMs: 60_000, idleTimeoutMs: 72_000, maxHeaderSize: 64 * 1024 };

const corsErrors = defineErrors({
  BAD_REQUEST: { status: 400, description: 'The request is malformed in a way the HTTP layer detected.' },
  REQUEST_TIMEOUT: {
    status: 408,
    description:
      'The request line, headers or body did not arrive within INFINITY_HTTP_HEADERS_TIMEOUT / INFINITY_HTTP_REQUEST_TIMEOUT; the connection is closed.',
  },
  REQUEST_HEADERS_TOO_LARGE: { status: 431, description: 'The URL and headers together are larger than INFINITY_HTTP_MAX_HEADER_SIZE.' },
  CORS_ORIGIN_NOT_ALLOWED: { status: 403, description: 'A CORS preflight from an origin not in INFINITY_CORS_ORIGINS: the browser will not send the request.' },
});

/**
 * Errors Node's HTTP parser meets before there is a request to route (headers too large, a
 * timeout, bytes that are not HTTP) are answered on the socket, in the one error format.
 */
function clientErrorHandler(limits: HttpLimits) {
  return function (this: FastifyInstance, err: Error & { code?: string }, socket: Socket) {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, code, message] =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [
            408,
            'REQUEST_TIMEOUT',
            `The request did not arrive in time: headers within ${limits.headersTimeoutMs} ms, the whole request within ${limits.requestTimeoutMs} ms.`,
          ]
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'REQUEST_HEADERS_TOO_LARGE', `The URL and headers are larger than ${limits.maxHeaderSize} bytes.`]
          : [400, 'BAD_REQUEST', 'The request is not valid HTTP.'];
    this.log.debug({ code: err.code }, 'client error');
    if (socket.writable) {
      const body = JSON.stringify({ error: { code, message, details: null } });
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}

export interface RouteInfo {
  method: string;
  url: string;
  access: unknown;
  hidden: boolean;
  hasBody: boolean;
  /** The OpenAPI operation's name and one-line summary (every documented route has both). */
  operationId: string | undefined;
  summary: string | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: RouteInfo[];
  }
}

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
/** Paths that are never pages of the UI: an unknown one there is a JSON 404. */
const NOT_UI = /^\/(api|internal|health|metrics|docs)(\/|\?|$)/;

/** A Fastify instance with the cross-cutting HTTP concerns; modules add routes to it. Never listens. */
export async function createHttpServer(opts: HttpServerOptions): Promise<App> {
  const limits = opts.http ?? DEFAULT_HTTP_LIMITS;
  const app = Fastify({
    // Timeouts for receiving a request (headers; the whole request), never for answering one:
    // `?wait=true`, streamed replies and long-lived streams are not cut. Node checks them every
    // connectionsCheckingInterval (30 s by default: a 20 s timeout could take 50).
    http: {
      maxHeaderSize: limits.maxHeaderSize,
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    clientErrorHandler: clientErrorHandler(limits),
    loggerInstance: opts.logger,
    // One 'request' line per response is written by our onResponse hook (with org and actor).
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : newId();
    },
    bodyLimit: opts.bodyLimit,
    trustProxy: opts.trustProxy,
    routerOptions: { maxParamLength: 200 },
    ajv: undefined,
  }).withTypeProvider<ZodTypeProvider>();

  // JSON only, unless a route module adds a parser (CSV import will): anything else is a 415.
  app.removeContentTypeParser('text/plain');
  // Fastify's JSON parser (prototype-poisoning checks included), after a depth check: JSON nested
  // thousands of levels is a 400 here, not a stack overflow (500) in whatever walks it later.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (jsonNestsDeeper(body as string)) return done(jsonTooDeep(), undefined);
    void parseJson(request, body as string, done);
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((err, request, reply) => sendError(request, reply, err));
  const uiIndex = opts.uiRoot && existsSync(path.join(opts.uiRoot, 'index.html')) ? readFileSync(path.join(opts.uiRoot, 'index.html'), 'utf8') : undefined;
  app.setNotFoundHandler((request, reply) => {
    // The UI's own paths (/data/customers, …) are routes of the single-page app: answer its page.
    if (uiIndex && request.method === 'GET' && !NOT_UI.test(request.url) && /text\/html/.test(request.headers.accept ?? '')) {
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(uiIndex);
    }
    // A CORS preflight @fastify/cors did not answer comes from an origin that is not allowed:
    // refuse it plainly (no Access-Control-Allow-* headers, so the browser stops), not as a 404.
    if (request.method === 'OPTIONS' && request.headers.origin && request.headers['access-control-request-method']) {
      reply.header('vary', 'Origin');
      return sendError(
        request,
        reply,
        corsErrors.CORS_ORIGIN_NOT_ALLOWED(
          `The origin ${request.headers.origin.slice(0, 200)} is not allowed; an operator lists allowed origins in INFINITY_CORS_ORIGINS.`,
        ),
      );
    }
    return sendError(request, reply, commonErrors.ROUTE_NOT_FOUND(`No route ${request.method} ${request.url.split('?')[0]}.`));
  });

  // Routes served by plugins (the API reference) are public by nature; declare them so.
  // Every route is recorded with its access rule: tests walk this table (deny by default).
  const routeTable: RouteInfo[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    // CORS preflight (OPTIONS *) is answered by @fastify/cors itself and carries no data.
    const pluginRoute = route.url.startsWith('/docs') || (route.method === 'OPTIONS' && route.url === '*') || (uiIndex !== undefined && route.url === '/*');
    if (pluginRoute) route.config = { ...(route.config ?? {}), access: { public: true } };
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const hidden = Boolean(route.schema?.hide);
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routeTable.push({
        method,
        url: route.url,
        access: (route.config as { access?: unknown } | undefined)?.access,
        hidden,
        hasBody: Boolean(route.schema?.body),
        operationId: route.schema?.operationId,
        summary: route.schema?.summary,
      });
    }
  });

  app.addHook('preValidation', textGuard);
  const security = securityHeaders();
  // Callback-style hooks: these run on every request, and an async hook costs a promise each.
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(security);
    // The embeddable widget's script is loaded by other sites' pages.
    if (request.url.startsWith('/widget.js')) reply.header('cross-origin-resource-policy', 'cross-origin');
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const actor = request.actor;
    const actorKind = actor ? (actor.kind === 'apiKey' ? 'api_key' : actor.kind) : null;
    const actorId = actor ? (actor.kind === 'apiKey' ? actor.apiKeyId : actor.kind === 'user' ? actor.userId : null) : null;
    const durationMs = Math.round(reply.elapsedTime * 100) / 100;
    const route = request.routeOptions.url ?? null;
    request.log.info(
      {
        method: request.method,
        route,
        status: reply.statusCode,
        durationMs,
        org: actor?.orgId ?? null,
        actor: actorKind ? (actorId ? `${actorKind}:${actorId}` : actorKind) : null,
        ip: request.ip,
      },
      'request',
    );
    if (opts.observe) {
      const length = Number(reply.getHeader('content-length') ?? 0);
      opts.observe({
        at: new Date(Date.now() - reply.elapsedTime),
        requestId: request.id,
        method: request.method,
        route,
        status: reply.statusCode,
        durationMs,
        bytes: Number.isFinite(length) ? length : 0,
        orgId: actor?.orgId ?? null,
        actorKind,
        actorId,
        ip: request.ip,
      });
    }
    done();
  });

  // Published flows (POST /api/v1/run/{slug}) are called from any web page — the embeddable
  // widget — so they answer every origin, without cookies; everything else only the listed origins.
  await app.register(cors, {
    delegator: (request, cb) =>
      request.url?.startsWith('/api/v1/run/')
        ? cb(null, { origin: '*', credentials: false })
        : // ETag is read by clients of other origins to send it back as If-Match (SPEC §6).
          cb(null, { origin: (origin, next) => next(null, !origin || opts.corsOrigins.includes(origin)), credentials: true, exposedHeaders: ['ETag'] }),
  });
  await app.register(cookie);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Infinity API',
        version: opts.version,
        description: 'Data service, flow engine, identity and vault. Errors: `{ "error": { "code", "message", "details" } }`.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      servers: [{ url: opts.publicUrl }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An access token from /auth/login, or an API key.' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
      ...(opts.openapiWebhooks ? { webhooks: opts.openapiWebhooks } : {}),
    },
    ...openApiTransforms(),
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  if (uiIndex && opts.uiRoot) {
    // Hashed build files are immutable; everything else (index.html) is revalidated.
    await app.register(fastifyStatic, {
      root: opts.uiRoot,
      prefix: '/',
      wildcard: true,
      cacheControl: false,
      // Nothing under a dot folder (the build's .vite/manifest.json) leaves the server.
      serveDotFiles: false,
      allowedPath: (pathName) => !pathName.split('/').some((part) => part.startsWith('.')),
      setHeaders: (res, file) => {
        res.setHeader('cache-control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }
  // The instance is typed with pino's Logger; modules only need Fastify's base logger view of it.
  return app as unknown as App;
}
