import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { Actor } from './actor.js';
import { type RouteAccess, rateLimitClass } from './access.guard.js';

const classify = rateLimitClass({ publicPerMinute: 100, apiPerMinute: 0, routes: {} });
const request = (access: RouteAccess, actor: Actor | null) =>
  ({ routeOptions: { config: { access }, url: '/api/v1/realtime' }, method: 'GET', ip: '10.0.0.1', actor }) as unknown as FastifyRequest;
const user: Actor = { kind: 'user', userId: 'u1', orgId: 'o1', role: 'viewer', sessionId: 's1' };

describe('rate limit classes', () => {
  it('a public route counts per client address, even with a credential', () => {
    expect(classify(request({ public: true, identify: true }, user))).toEqual({ key: 'ip:10.0.0.1', max: 100 });
  });
  it('a perCredential public route counts a request with a credential as authenticated (realtime connects), one without per address', () => {
    expect(classify(request({ public: true, identify: true, perCredential: true }, user))).toEqual({ key: 'user:u1', max: 0 });
    expect(classify(request({ public: true, identify: true, perCredential: true }, null))).toEqual({ key: 'ip:10.0.0.1', max: 100 });
  });
});
