import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { commonErrors } from '../errors.js';
import type { App } from './server.js';

/** Who a request counts against and how many requests a minute it may make; max 0 = unlimited. */
export type RateLimitClass = (request: FastifyRequest) => { key: string; max: number };

const classes = new WeakMap<FastifyRequest, { key: string; max: number }>();

/**
 * One rate limiter for every route (@fastify/rate-limit): `classify` says per request what is
 * counted (a client address, an API key, a user) and the limit. `RateLimit-*` headers and 429 with
 * `Retry-After` in the error format. Counts live in this process, or in Redis when given so that
 * several instances share them (if Redis is unreachable requests pass rather than fail).
 * It runs at preParsing: after the access guard identified the caller, before a body is read.
 * NB: register it before any route: it hooks routes as they are added.
 */
export async function registerRateLimit(app: App, opts: { classify: RateLimitClass; redis?: Redis | undefined }): Promise<void> {
  const classOf = (req: FastifyRequest) => {
    let c = classes.get(req);
    if (!c) classes.set(req, (c = opts.classify(req)));
    return c;
  };
  await app.register(rateLimit, {
    global: true,
    hook: 'preParsing',
    enableDraftSpec: true,
    timeWindow: 60_000,
    keyGenerator: (req) => classOf(req).key,
    allowList: (req) => classOf(req).max === 0,
    max: (req) => classOf(req).max,
    ...(opts.redis ? { redis: opts.redis, nameSpace: 'infinity:rl:', skipOnError: true } : {}),
    errorResponseBuilder: (_req, c) =>
      commonErrors.RATE_LIMITED(`More than ${c.max} requests a minute; retry in ${Math.ceil(c.ttl / 1000)} s.`, {
        limit: c.max,
        retryAfterSeconds: Math.ceil(c.ttl / 1000),
      }),
  });
}
