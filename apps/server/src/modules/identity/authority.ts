import type { Role } from '@infinity/contracts';
import { sql } from 'kysely';
import { cachedApiKey, cachedRole, effectiveKeyRole } from './authenticator.js';
import type { IdentityContext } from './identity.context.js';

/** Who set something up that keeps acting later (an outbound webhook): a member, or an API key. */
export type Grantor = { kind: 'user'; userId: string } | { kind: 'apiKey'; apiKeyId: string };

export type Authority = { role: Role } | { role: null; reason: string };

/** Key ids to key hashes (a key's hash never changes): the principal cache is keyed by hash. */
const hashes = new WeakMap<IdentityContext, Map<string, string | null>>();

async function keyHash(ctx: IdentityContext, orgId: string, keyId: string): Promise<string | null> {
  let map = hashes.get(ctx);
  if (!map) hashes.set(ctx, (map = new Map<string, string | null>()));
  const known = map.get(keyId);
  if (known !== undefined) return known;
  const r = await sql<{ key_hash: string }>`select key_hash from api_keys where id = ${keyId} and org_id = ${orgId}`.execute(ctx.db);
  const hash = r.rows[0]?.key_hash ?? null;
  if (hash) map.set(keyId, hash);
  return hash;
}

/**
 * The role something set up by `grantor` acts with now in `orgId`, read through the principal
 * cache (which every process clears when a key is revoked or a member changes): a member's current
 * role; a key's effective role (not revoked or expired, a personal key's creator still a member).
 */
export async function currentAuthority(ctx: IdentityContext, orgId: string, grantor: Grantor, now = Date.now()): Promise<Authority> {
  if (grantor.kind === 'user') {
    const role = await cachedRole(ctx, grantor.userId, orgId);
    return role ? { role } : { role: null, reason: 'the member who created it is no longer in the organization' };
  }
  const hash = await keyHash(ctx, orgId, grantor.apiKeyId);
  const key = hash ? await cachedApiKey(ctx, hash) : null;
  if (!key || key.orgId !== orgId) return { role: null, reason: 'the API key that created it was revoked or deleted' };
  if (key.expiresAt && key.expiresAt.getTime() <= now) return { role: null, reason: 'the API key that created it has expired' };
  const role = effectiveKeyRole(key);
  return role ? { role } : { role: null, reason: 'the person whose personal API key created it is no longer in the organization' };
}
