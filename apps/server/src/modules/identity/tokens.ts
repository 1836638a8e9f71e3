import { SignJWT, jwtVerify } from 'jose';
import { identityErrors } from './identity.errors.js';

export interface AccessClaims {
  userId: string;
  orgId: string | null;
  sessionId: string;
}

const ISSUER = 'infinity';
const AUDIENCE = 'infinity-api';

export async function signAccessToken(key: Uint8Array, claims: AccessClaims, ttlSeconds: number): Promise<string> {
  return new SignJWT({ org: claims.orgId, sid: claims.sessionId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key);
}

export async function verifyAccessToken(key: Uint8Array, token: string): Promise<AccessClaims> {
  try {
    const { payload } = await jwtVerify(token, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') throw new Error('claims');
    const org = payload.org;
    return { userId: payload.sub, orgId: typeof org === 'string' ? org : null, sessionId: payload.sid };
  } catch {
    throw identityErrors.AUTH_TOKEN_INVALID();
  }
}

/** API keys look like `inf_<43 url-safe chars>`; the first 12 characters are shown as the prefix. */
export const API_KEY_PREFIX = 'inf_';
export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}
