import { type Role, roleAtLeast } from '@infinity/contracts';
import { inTransaction } from '../../platform/db/index.js';
import { randomToken, sha256Hex } from '../../platform/crypto/index.js';
import { newId } from '../../platform/ids.js';
import { type OrgActor, type UserActor, actorUserId } from '../access/index.js';
import { recordAudit } from '../audit/index.js';
import type { IdentityContext } from './identity.context.js';
import { identityErrors } from './identity.errors.js';
import * as repo from './identity.repo.js';
import * as invitations from './invitations.repo.js';
import { toOrg } from './serialize.js';
import { emitMemberChanged } from './identity.events.js';

function toInvitation(r: { id: string; email: string; role: Role; expires_at: Date; created_at: Date; invited_by: string | null }) {
  return { id: r.id, email: r.email, role: r.role, invitedBy: r.invited_by, expiresAt: r.expires_at.toISOString(), createdAt: r.created_at.toISOString() };
}

/**
 * Invites someone by email. The token is returned once (to be sent by email, or copied by the
 * inviter); only its hash is stored.
 */
export async function createInvitation(ctx: IdentityContext, actor: OrgActor, input: { email: string; role: Role }, ip: string) {
  if (!roleAtLeast(actor.role, input.role)) throw identityErrors.MEMBER_ROLE_TOO_HIGH('You cannot invite someone with a role above your own.');
  const existing = await repo.findUserByEmail(ctx.db, input.email);
  if (existing && (await repo.membershipRole(ctx.db, actor.orgId, existing.id))) throw identityErrors.INVITATION_ALREADY_MEMBER();
  const token = randomToken(32);
  return inTransaction(ctx.db, async ({ trx }) => {
    const row = await invitations.insertInvitation(trx, {
      id: newId(),
      orgId: actor.orgId,
      email: input.email.trim(),
      role: input.role,
      tokenHash: sha256Hex(token),
      invitedBy: actorUserId(actor),
      expiresAt: new Date(Date.now() + ctx.auth.invitationTtl * 1000),
    });
    await recordAudit(trx, {
      orgId: actor.orgId,
      actor,
      action: 'INVITATION_CREATE',
      target: { type: 'invitation', id: row.id },
      ip,
      details: { email: row.email, role: row.role },
    });
    return { ...toInvitation(row), token, url: `${ctx.publicUrl}/invite/${token}` };
  });
}

export async function listInvitations(ctx: IdentityContext, actor: OrgActor, limit: number, offset: number) {
  return (await invitations.listPendingInvitations(ctx.db, actor.orgId, limit, offset)).map(toInvitation);
}

export const countInvitations = (ctx: IdentityContext, actor: OrgActor) => invitations.countPendingInvitations(ctx.db, actor.orgId);

export async function revokeInvitation(ctx: IdentityContext, actor: OrgActor, id: string, ip: string) {
  await inTransaction(ctx.db, async ({ trx }) => {
    const row = await invitations.revokeInvitation(trx, actor.orgId, id);
    if (!row) throw identityErrors.INVITATION_NOT_FOUND();
    await recordAudit(trx, { orgId: actor.orgId, actor, action: 'INVITATION_REVOKE', target: { type: 'invitation', id }, ip, details: { email: row.email } });
  });
}

/** The signed-in user joins the organization with the invited role; the invitation must name their email. */
export async function acceptInvitation(ctx: IdentityContext, actor: UserActor, token: string, ip: string) {
  return inTransaction(ctx.db, async (uow) => {
    const { trx } = uow;
    const inv = await invitations.lockInvitationByHash(trx, sha256Hex(token));
    if (!inv || inv.accepted_at || inv.revoked_at) throw identityErrors.INVITATION_NOT_FOUND();
    if (inv.expires_at.getTime() <= Date.now()) throw identityErrors.INVITATION_EXPIRED();
    const user = await repo.findUser(trx, actor.userId);
    if (!user || user.email.toLowerCase() !== inv.email.toLowerCase()) throw identityErrors.INVITATION_EMAIL_MISMATCH();
    if (await repo.membershipRole(trx, inv.org_id, actor.userId)) throw identityErrors.INVITATION_ALREADY_MEMBER();
    await repo.insertMembership(trx, inv.org_id, actor.userId, inv.role);
    await invitations.markAccepted(trx, inv.id, actor.userId);
    await recordAudit(trx, {
      orgId: inv.org_id,
      actor: { ...actor, orgId: inv.org_id, role: inv.role },
      action: 'INVITATION_ACCEPT',
      target: { type: 'invitation', id: inv.id },
      ip,
      details: { role: inv.role },
    });
    const org = await repo.findOrg(trx, inv.org_id);
    if (!org) throw identityErrors.INVITATION_NOT_FOUND();
    // A process that cached "not a member" reads the membership again.
    emitMemberChanged(ctx, uow, { orgId: inv.org_id, actor, userId: actor.userId, role: inv.role });
    return toOrg(org, inv.role);
  });
}
