import { type Role, roleAtLeast } from '@infinity/contracts';
import type { FastifyRequest } from 'fastify';
import { sha256Hex } from '../../platform/crypto/index.js';
import type { Actor, Authenticator } from '../access/index.js';
import { accessErrors } from '../access/index.js';
import { findActiveKeyByHash } from './api-keys.repo.js';
import type { IdentityContext } from './identity.context.js';
import { identityErrors } from './identity.errors.js';
import { membershipRole } from './identity.repo.js';
import type { CachedApiKey } from './principal-cache.js';
import { cachedClaims, looksLikeApiKey, verifyAccessToken } from './tokens.js';
import { isUuid } from '../../platform/ids.js';

declare module 'fastify' {
  interface FastifyRequest {
    apiKeyInfo?: { id: string; name: string; prefix: string; kind: 'personal' | 'service' };
  }
}

/**
 * What a key may do now. A service key holds the role the organization gave it. A personal key
 * never acts above its creator: the lower of its own role and the creator's current one, and
 * nothing (null) once the creator has left the organization.
 */
export function effectiveKeyRole(key: Pick<CachedApiKey, 'kind' | 'role' | 'creatorRole'>): Role | null {
  if (key.kind === 'service') return key.role;
  if (!key.creatorRole) return null;
  return roleAtLeast(key.creatorRole, key.role) ? key.role : key.creatorRole;
}

/** An active key by its hash, through the principal cache (forgotten when key.revoked or member.changed arrives). */
export function cachedApiKey(ctx: IdentityContext, hash: string): Promise<CachedApiKey | null> {
  return ctx.cache.apiKey(hash, async () => {
    const row = await findActiveKeyByHash(ctx.db, hash);
    return row
      ? {
          id: row.id,
          orgId: row.org_id,
          role: row.role,
          kind: row.kind,
          creatorRole: row.creator_role,
          name: row.name,
          prefix: row.prefix,
          createdBy: row.created_by,
          expiresAt: row.expires_at,
          rateLimit: row.rate_limit,
        }
      : null;
  });
}

/** A member's current role in an organization, through the principal cache. */
export function cachedRole(ctx: IdentityContext, userId: string, orgId: string): Promise<Role | null> {
  return ctx.cache.role(userId, orgId, async () => (await membershipRole(ctx.db, orgId, userId)) ?? null);
}

/** The credential a request carries (X-API-Key, or Authorization: Bearer), as the authenticator reads it. */
export function credentialOf(request: Pick<FastifyRequest, 'headers'>): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header) return header.trim();
  const auth = request.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * The one identity check: an API key (`X-API-Key`, or `Bearer inf_…`) or an access token.
 * A user may act in another of their organizations with `X-Org-Id`.
 */
export function createAuthenticator(ctx: IdentityContext): Authenticator {
  return async (request): Promise<Actor | null> => {
    const credential = credentialOf(request);
    if (!credential) return null;
    if (looksLikeApiKey(credential)) {
      const hash = sha256Hex(credential);
      const key = ctx.cache.peekApiKey(hash) ?? (await cachedApiKey(ctx, hash));
      if (!key || (key.expiresAt && key.expiresAt.getTime() <= Date.now())) throw identityErrors.AUTH_API_KEY_INVALID();
      const role = effectiveKeyRole(key);
      if (!role)
        throw identityErrors.AUTH_API_KEY_INVALID(
          'This personal key’s creator is no longer a member of its organization; the key no longer works (use a service-account key for integrations).',
        );
      ctx.keyUses.set(key.id, new Date());
      request.apiKeyInfo = { id: key.id, name: key.name, prefix: key.prefix, kind: key.kind };
      // A service key acts for the organization, not for a person.
      return {
        kind: 'apiKey',
        apiKeyId: key.id,
        orgId: key.orgId,
        role,
        userId: key.kind === 'service' ? null : key.createdBy,
        keyKind: key.kind,
        rateLimit: key.rateLimit,
      };
    }
    const claims = cachedClaims(credential) ?? (await verifyAccessToken(ctx.jwtKey, credential));
    const header = request.headers['x-org-id'];
    let orgId = claims.orgId;
    if (typeof header === 'string' && header) {
      if (!isUuid(header)) throw accessErrors.AUTH_NO_ORGANIZATION('X-Org-Id must be an organization id (UUID).');
      orgId = header;
    }
    if (!orgId) return { kind: 'user', userId: claims.userId, orgId: null, role: null, sessionId: claims.sessionId };
    const peeked = ctx.cache.peekRole(claims.userId, orgId);
    const role = peeked !== undefined ? peeked : await cachedRole(ctx, claims.userId, orgId);
    if (!role) {
      if (header) throw identityErrors.AUTH_NOT_A_MEMBER();
      // The active organization was left or deleted since the token was issued: continue without one.
      return { kind: 'user', userId: claims.userId, orgId: null, role: null, sessionId: claims.sessionId };
    }
    return { kind: 'user', userId: claims.userId, orgId, role, sessionId: claims.sessionId };
  };
}
