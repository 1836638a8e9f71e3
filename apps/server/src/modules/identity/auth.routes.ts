import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { type App, emptyBody, plainJsonSerializer } from '../../platform/http/index.js';
import { userActorOf } from '../access/index.js';
import * as auth from './auth.service.js';
import type { IdentityContext } from './identity.context.js';
import { identityErrors } from './identity.errors.js';
import { orgSchema, userSchema } from './serialize.js';

export const REFRESH_COOKIE = 'infinity_refresh';
const COOKIE_PATH = '/api/v1/auth';

const email = z.email({ message: 'must be an email address' }).max(254);
// Length here; strength (common or guessable passwords) in the service: AUTH_PASSWORD_WEAK.
const password = z.string().min(8, 'must be at least 8 characters').max(256);
const signupBody = z.strictObject({ name: z.string().trim().min(1).max(100), email, password });
const loginBody = z.strictObject({ email: z.string().min(1).max(254), password: z.string().min(1).max(256) });
const sessionData = z.object({ user: userSchema, organization: orgSchema.nullable(), accessToken: z.string(), expiresIn: z.number() });

function setRefreshCookie(ctx: IdentityContext, reply: FastifyReply, token: string, expires: Date) {
  void reply.setCookie(REFRESH_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: ctx.auth.cookieSecure, path: COOKIE_PATH, expires });
}

export function authRoutes(ctx: IdentityContext) {
  return async (app: App) => {
    const session = (s: auth.SessionResult) => ({ user: s.user, organization: s.organization, accessToken: s.accessToken, expiresIn: ctx.auth.accessTokenTtl });

    app.post('/api/v1/auth/signup', {
      config: { access: { public: true } },
      schema: {
        operationId: 'signUp',
        tags: ['auth'],
        summary: 'Create an account and its personal organization (a common or guessable password is refused: 422 AUTH_PASSWORD_WEAK)',
        body: signupBody,
        response: { 201: z.object({ data: sessionData }) },
      },
      handler: async (request, reply) => {
        const s = await auth.signup(ctx, request.body, request.ip);
        setRefreshCookie(ctx, reply, s.refreshToken, s.refreshExpiresAt);
        return reply.status(201).send({ data: session(s) });
      },
    });

    app.post('/api/v1/auth/login', {
      config: { access: { public: true } },
      schema: {
        operationId: 'logIn',
        tags: ['auth'],
        summary: 'Sign in with email and password',
        body: loginBody,
        response: { 200: z.object({ data: sessionData }) },
      },
      handler: async (request, reply) => {
        try {
          const s = await auth.login(ctx, request.body, request.ip);
          setRefreshCookie(ctx, reply, s.refreshToken, s.refreshExpiresAt);
          return { data: session(s) };
        } catch (err) {
          const retry = (err as { details?: { retryAfter?: number } }).details?.retryAfter;
          if (retry) void reply.header('retry-after', String(retry));
          throw err;
        }
      },
    });

    app.post('/api/v1/auth/refresh', {
      config: { access: { public: true } },
      schema: {
        operationId: 'refreshAccessToken',
        tags: ['auth'],
        summary: 'Exchange the refresh cookie for a new access token (the cookie rotates)',
        body: emptyBody,
        response: { 200: z.object({ data: sessionData }) },
      },
      handler: async (request, reply) => {
        try {
          const s = await auth.refresh(ctx, request.cookies[REFRESH_COOKIE]);
          setRefreshCookie(ctx, reply, s.refreshToken, s.refreshExpiresAt);
          return { data: session(s) };
        } catch (err) {
          void reply.clearCookie(REFRESH_COOKIE, { path: COOKIE_PATH });
          throw err;
        }
      },
    });

    app.post('/api/v1/auth/logout', {
      config: { access: { user: true } },
      schema: { operationId: 'logOut', tags: ['auth'], summary: 'End this session (its refresh tokens are revoked)', body: emptyBody },
      handler: async (request, reply) => {
        await auth.logout(ctx, userActorOf(request));
        void reply.clearCookie(REFRESH_COOKIE, { path: COOKIE_PATH });
        return reply.status(204).send();
      },
    });

    app.post('/api/v1/auth/switch', {
      config: { access: { user: true } },
      schema: {
        operationId: 'switchOrganization',
        tags: ['auth'],
        summary: 'Make another of your organizations the active one (the session must be alive; the new token does not outlive it)',
        body: z.strictObject({ organizationId: z.uuid() }),
        response: { 200: z.object({ data: z.object({ accessToken: z.string(), organization: orgSchema, expiresIn: z.number() }) }) },
      },
      handler: async (request) => {
        const r = await auth.switchOrg(ctx, userActorOf(request), request.body.organizationId);
        return { data: r };
      },
    });

    // Answers without an active organization too (organization and role are then null).
    app.get('/api/v1/me', {
      config: { access: { self: true } },
      // The body is built by toUser/toOrg, which pick fields explicitly.
      ...plainJsonSerializer,
      schema: {
        operationId: 'getMe',
        tags: ['auth'],
        summary: 'Who the credential is: user or API key, organization and role',
        response: {
          200: z.object({
            data: z.object({
              kind: z.enum(['user', 'apiKey']),
              user: userSchema.nullable(),
              apiKey: z.object({ id: z.string(), name: z.string(), prefix: z.string(), kind: z.enum(['personal', 'service']) }).nullable(),
              organization: orgSchema.nullable(),
              role: z.string().nullable(),
            }),
          }),
        },
      },
      handler: async (request) => {
        if (!request.actor) throw identityErrors.AUTH_TOKEN_INVALID();
        return { data: await auth.me(ctx, request.actor, request.apiKeyInfo) };
      },
    });
  };
}
