import rateLimit from '@fastify/rate-limit';
import { commonErrors } from '../errors.js';
import type { App } from './server.js';

/**
 * Rate limiting for the public entry points of a plugin (webhooks, published flows and agents):
 * routes opt in with `config.rateLimit` (see `perMinute`); `RateLimit-*` headers, and 429 with
 * `Retry-After` in the error format. Counts are per client address, in memory per process.
 */
export async function registerPublicRateLimit(app: App): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    enableDraftSpec: true,
    errorResponseBuilder: (_req, c) => commonErrors.RATE_LIMITED(`More than ${c.max} requests a minute from this address; retry in ${Math.ceil(c.ttl / 1000)} s.`),
  });
}

/** The route option that applies the limit: `max` requests a minute per client address. */
export const perMinute = (max: number) => ({ rateLimit: { max, timeWindow: 60_000 } });
