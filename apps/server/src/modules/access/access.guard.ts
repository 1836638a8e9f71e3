import type { FastifyInstance, FastifyRequest } from 'fastify';
import { commonErrors, defineErrors } from '../../platform/errors.js';
import type { Actor, OrgActor } from './actor.js';
import { SYSTEM_ACTOR, isOrgActor } from './actor.js';
import { constantTimeEqual } from '../../platform/crypto/index.js';
import { type Permission, assertCan } from './permissions.js';

/**
 * How a route is reached. Every route must declare one in `config.access`; a route without it
 * is refused at run time and fails the route-table test (deny by default).
 *  - public: no credential needed (health, docs, sign-up, login, public runs); with `identify`,
 *    a credential that is sent is still checked and its actor set (the per-organization OpenAPI);
 *    with `perCredential` too, a request that sent one is rate limited as an authenticated one
 *    (realtime connects: a browser's WebSocket authenticates after the upgrade, a client with headers before)
 *  - user: a signed-in person, with or without an organization (create org, accept invitation)
 *  - self: any credential, with or without an active organization: who am I, which organizations
 *    are mine (a person removed from their active organization can still find their others)
 *  - a permission: a user or API key acting in an organization with a role that holds it
 *  - instance: the local operator's CLI, with the token the server wrote into its data folder
 */
export type RouteAccess =
  { public: true; identify?: true; perCredential?: true } | { user: true } | { self: true } | { permission: Permission } | { instance: true };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    actor: Actor | null;
  }
}

export const accessErrors = defineErrors({
  ACCESS_NOT_DECLARED: { status: 500, description: 'A route declares no access rule; it is refused (deny by default). A server bug.' },
  AUTH_USER_REQUIRED: { status: 403, description: 'This route is for signed-in users; API keys cannot use it.' },
  AUTH_NO_ORGANIZATION: { status: 403, description: 'The request has no active organization (switch to one, or send X-Org-Id).' },
});

/** Turns the request's credential into an actor, or null when there is none. Throws on a bad one. */
export type Authenticator = (request: FastifyRequest) => Promise<Actor | null>;

export function registerAccessGuard(app: FastifyInstance, authenticate: Authenticator, instanceToken?: string): void {
  app.decorateRequest('actor', null);
  app.addHook('onRequest', async (request) => {
    // The 404 handler has no route config; it needs no actor.
    if (request.is404) return;
    const access = request.routeOptions.config.access;
    if (!access) throw accessErrors.ACCESS_NOT_DECLARED(`Route ${request.routeOptions.url ?? ''} declares no access rule.`);
    if ('public' in access) {
      if (access.identify) request.actor = await authenticate(request);
      return;
    }
    if ('instance' in access) {
      const given = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (!instanceToken || !given || !constantTimeEqual(given, instanceToken))
        throw commonErrors.UNAUTHENTICATED('This route is for the local operator only.');
      request.actor = SYSTEM_ACTOR;
      return;
    }
    const actor = await authenticate(request);
    if (!actor) throw commonErrors.UNAUTHENTICATED('Sign in, or send an API key as "Authorization: Bearer <key>" or "X-API-Key".');
    request.actor = actor;
    if ('self' in access) return;
    if ('user' in access) {
      if (actor.kind !== 'user') throw accessErrors.AUTH_USER_REQUIRED();
      return;
    }
    if (!isOrgActor(actor)) throw accessErrors.AUTH_NO_ORGANIZATION();
    assertCan(actor, access.permission);
  });
}

/** The actor of a route declared with a permission (the guard has checked it). */
export function orgActorOf(request: FastifyRequest): OrgActor {
  const a = request.actor;
  if (!a || !isOrgActor(a)) throw accessErrors.AUTH_NO_ORGANIZATION();
  return a;
}

/** The actor of a route declared `{ user: true }`. */
export function userActorOf(request: FastifyRequest): Extract<Actor, { kind: 'user' }> {
  const a = request.actor;
  if (!a || a.kind !== 'user') throw accessErrors.AUTH_USER_REQUIRED();
  return a;
}

/** Routes that are never rate limited: probes, the API reference, the UI's files and the metrics scrape (it has its own token). */
const UNLIMITED = /^\/(?:(?:health|docs|metrics)(?:\/|$)|\*$)/;

/**
 * What the rate limiter counts a request against (SPEC §7): public routes per client address
 * (publicPerMinute), the rest per credential (an API key's own limit, else apiPerMinute; 0 =
 * unlimited); a per-route limit counts that route apart.
 */
export function rateLimitClass(o: { publicPerMinute: number; apiPerMinute: number; routes: Record<string, number> }) {
  return (request: FastifyRequest): { key: string; max: number } => {
    const access = request.routeOptions.config?.access;
    const url = request.routeOptions.url ?? '';
    if (!access || 'instance' in access || UNLIMITED.test(url)) return { key: '', max: 0 };
    const actor = request.actor;
    const asPublic = 'public' in access && !(access.perCredential && actor);
    const who =
      asPublic || !actor
        ? `ip:${request.ip}`
        : actor.kind === 'apiKey'
          ? `key:${actor.apiKeyId}`
          : actor.kind === 'user'
            ? `user:${actor.userId}`
            : `ip:${request.ip}`;
    const route = `${request.method} ${url}`;
    const perRoute = o.routes[route];
    if (perRoute) return { key: `${route}|${who}`, max: perRoute };
    if (asPublic) return { key: who, max: o.publicPerMinute };
    return { key: who, max: (actor?.kind === 'apiKey' && actor.rateLimit) || o.apiPerMinute };
  };
}
