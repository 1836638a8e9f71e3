import { type KeyObject, createSecretKey } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { identityErrors } from './identity.errors.js';

export interface AccessClaims {
  userId: string;
  orgId: string | null;
  sessionId: string;
}

const ISSUER = 'infinity';
const AUDIENCE = 'infinity-api';

/** The HMAC key imported once: jose then skips a key import on every verification. */
export function jwtKeyFrom(secret: Uint8Array): KeyObject {
  return createSecretKey(secret);
}

export async function signAccessToken(key: KeyObject, claims: AccessClaims, ttlSeconds: number): Promise<string> {
  return new SignJWT({ org: claims.orgId, sid: claims.sessionId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key);
}

/**
 * Tokens already verified, by their full text (signature included), until they expire. A hit
 * skips jose's asynchronous HMAC check, which was the largest cost of a JWT request.
 * Bounded: the oldest entry goes when the map is full.
 */
const verified = new Map<string, { claims: AccessClaims; expiresAt: number }>();
const VERIFIED_MAX = 10_000;

/** Claims of a token verified before and not yet expired, without a promise; else undefined. */
export function cachedClaims(token: string): AccessClaims | undefined {
  const hit = verified.get(token);
  if (hit && hit.expiresAt > Date.now()) return hit.claims;
  return undefined;
}

export async function verifyAccessToken(key: KeyObject, token: string): Promise<AccessClaims> {
  const hit = verified.get(token);
  if (hit) {
    if (hit.expiresAt > Date.now()) return hit.claims;
    verified.delete(token);
  }
  const { expiresAt, ...claims } = await verifyUncached(key, token);
  if (verified.size >= VERIFIED_MAX) {
    const oldest = verified.keys().next().value;
    if (oldest !== undefined) verified.delete(oldest);
  }
  verified.set(token, { claims, expiresAt });
  return claims;
}

async function verifyUncached(key: KeyObject, token: string): Promise<AccessClaims & { expiresAt: number }> {
  try {
    const { payload } = await jwtVerify(token, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string' || typeof payload.exp !== 'number') throw new Error('claims');
    const org = payload.org;
    return { userId: payload.sub, orgId: typeof org === 'string' ? org : null, sessionId: payload.sid, expiresAt: payload.exp * 1000 };
  } catch {
    throw identityErrors.AUTH_TOKEN_INVALID();
  }
}

/** API keys look like `inf_<43 url-safe chars>`; the first 12 characters are shown as the prefix. */
export const API_KEY_PREFIX = 'inf_';
export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}
