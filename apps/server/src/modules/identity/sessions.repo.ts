import type { Kysely, Transaction } from 'kysely';
import type { IdentityTables } from './identity.tables.js';

type Exec = Kysely<IdentityTables> | Transaction<IdentityTables>;

export async function insertRefreshToken(
  db: Exec,
  t: { id: string; familyId: string; userId: string; orgId: string | null; tokenHash: string; expiresAt: Date },
) {
  await db
    .insertInto('refresh_tokens')
    .values({ id: t.id, family_id: t.familyId, user_id: t.userId, org_id: t.orgId, token_hash: t.tokenHash, expires_at: t.expiresAt })
    .execute();
}

/** Locks the token row: two refreshes racing with the same token cannot both succeed. */
export function lockRefreshToken(trx: Transaction<IdentityTables>, tokenHash: string) {
  return trx.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).forUpdate().executeTakeFirst();
}

export async function markUsed(db: Exec, id: string) {
  await db.updateTable('refresh_tokens').set({ used_at: new Date() }).where('id', '=', id).execute();
}

export async function revokeFamily(db: Exec, familyId: string, userId: string) {
  await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: new Date() })
    .where('family_id', '=', familyId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .execute();
}

export async function setFamilyOrg(db: Exec, familyId: string, userId: string, orgId: string) {
  await db.updateTable('refresh_tokens').set({ org_id: orgId }).where('family_id', '=', familyId).where('user_id', '=', userId).execute();
}

/**
 * When the session ends if nothing renews it: the expiry of its live refresh token (not used,
 * not revoked, not expired); null when the session was logged out, revoked or has lapsed.
 */
export async function liveSessionExpiry(db: Exec, familyId: string, userId: string): Promise<Date | null> {
  const row = await db
    .selectFrom('refresh_tokens')
    .select('expires_at')
    .where('family_id', '=', familyId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('used_at', 'is', null)
    .where('expires_at', '>', new Date())
    .orderBy('expires_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.expires_at ?? null;
}
