import type { Role } from '@infinity/contracts';
import type { Kysely, Transaction } from 'kysely';
import type { IdentityTables } from './identity.tables.js';

type Exec = Kysely<IdentityTables> | Transaction<IdentityTables>;

const columns = ['id', 'org_id', 'email', 'role', 'invited_by', 'expires_at', 'accepted_at', 'revoked_at', 'created_at'] as const;

export async function insertInvitation(
  db: Exec,
  i: { id: string; orgId: string; email: string; role: Role; tokenHash: string; invitedBy: string | null; expiresAt: Date },
) {
  return db
    .insertInto('invitations')
    .values({ id: i.id, org_id: i.orgId, email: i.email, role: i.role, token_hash: i.tokenHash, invited_by: i.invitedBy, expires_at: i.expiresAt })
    .returning(columns)
    .executeTakeFirstOrThrow();
}

const pending = (db: Exec, orgId: string) =>
  db
    .selectFrom('invitations')
    .where('org_id', '=', orgId)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', new Date());

export function listPendingInvitations(db: Exec, orgId: string, limit: number, offset: number) {
  return pending(db, orgId).select(columns).orderBy('created_at', 'desc').limit(limit).offset(offset).execute();
}

export function lockInvitationByHash(trx: Transaction<IdentityTables>, tokenHash: string) {
  return trx.selectFrom('invitations').select(columns).where('token_hash', '=', tokenHash).forUpdate().executeTakeFirst();
}

export async function markAccepted(db: Exec, id: string, userId: string) {
  await db.updateTable('invitations').set({ accepted_at: new Date(), accepted_by: userId }).where('id', '=', id).execute();
}

export async function revokeInvitation(db: Exec, orgId: string, id: string) {
  return db
    .updateTable('invitations')
    .set({ revoked_at: new Date() })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .returning(['id', 'email'])
    .executeTakeFirst();
}

/** How many invitations listPendingInvitations pages through (meta.total). */
export async function countPendingInvitations(db: Exec, orgId: string): Promise<number> {
  return Number(
    (
      await pending(db, orgId)
        .select((e) => e.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
}
