import { type Role, roleAtLeast } from '@infinity/contracts';
import { inTransaction } from '../../platform/db/index.js';
import { type OrgActor, type UserActor, assertCan } from '../access/index.js';
import { recordAudit } from '../audit/index.js';
import { createOrgInTx } from './auth.service.js';
import type { IdentityContext } from './identity.context.js';
import { identityErrors } from './identity.errors.js';
import * as keys from './api-keys.repo.js';
import * as repo from './identity.repo.js';
import { type OrgDto, toOrg } from './serialize.js';
import { emitKeyRevoked, emitMemberChanged } from './identity.events.js';

/** Organizations, members and roles. Every function is scoped by its actor. */

export async function listMyOrgs(ctx: IdentityContext, actor: UserActor | OrgActor): Promise<OrgDto[]> {
  if (actor.kind !== 'user') {
    const org = await repo.findOrg(ctx.db, actor.orgId);
    return org ? [toOrg(org, actor.role)] : [];
  }
  return (await repo.orgsOfUser(ctx.db, actor.userId)).map((o) => toOrg(o, o.role));
}

export async function createOrg(ctx: IdentityContext, actor: UserActor, name: string, ip: string): Promise<OrgDto> {
  return inTransaction(ctx.db, async ({ trx }) => {
    const org = await createOrgInTx(trx, { name, personal: false, ownerId: actor.userId, plan: ctx.defaultPlan });
    await recordAudit(trx, {
      orgId: org.id,
      actor: { ...actor, orgId: org.id, role: 'owner' },
      action: 'ORG_CREATE',
      target: { type: 'organization', id: org.id },
      ip,
      details: { name },
    });
    return toOrg(org, 'owner');
  });
}

/**
 * The role the actor holds in `orgId`: a user may name any organization of theirs, an API key
 * only its own. Anything else is "not found" — never a hint that the organization exists.
 */
async function roleIn(ctx: IdentityContext, actor: UserActor | OrgActor, orgId: string): Promise<Role> {
  if (actor.kind !== 'user') {
    if (actor.orgId !== orgId) throw identityErrors.ORG_NOT_FOUND();
    return actor.role;
  }
  const role = await repo.membershipRole(ctx.db, orgId, actor.userId);
  if (!role) throw identityErrors.ORG_NOT_FOUND();
  return role;
}

function inOrg(actor: UserActor | OrgActor, orgId: string, role: Role): OrgActor {
  return actor.kind !== 'user' ? actor : { ...actor, orgId, role };
}

export async function getOrg(ctx: IdentityContext, actor: UserActor | OrgActor, orgId: string): Promise<OrgDto> {
  const role = await roleIn(ctx, actor, orgId);
  assertCan(inOrg(actor, orgId, role), 'org:read');
  const org = await repo.findOrg(ctx.db, orgId);
  if (!org) throw identityErrors.ORG_NOT_FOUND();
  return toOrg(org, role);
}

export async function updateOrg(ctx: IdentityContext, actor: UserActor | OrgActor, orgId: string, patch: { name?: string }, ip: string): Promise<OrgDto> {
  const role = await roleIn(ctx, actor, orgId);
  const scoped = inOrg(actor, orgId, role);
  assertCan(scoped, 'org:update');
  return inTransaction(ctx.db, async ({ trx, afterCommit }) => {
    const org = await repo.updateOrg(trx, orgId, patch);
    if (!org) throw identityErrors.ORG_NOT_FOUND();
    await recordAudit(trx, {
      orgId,
      actor: scoped,
      action: 'ORG_UPDATE',
      target: { type: 'organization', id: orgId },
      ip,
      details: { fields: Object.keys(patch) },
    });
    afterCommit(() => ctx.cache.forgetView(`org:${orgId}`));
    return toOrg(org, role);
  });
}

export async function deleteOrg(ctx: IdentityContext, actor: UserActor | OrgActor, orgId: string, ip: string): Promise<void> {
  const role = await roleIn(ctx, actor, orgId);
  const scoped = inOrg(actor, orgId, role);
  assertCan(scoped, 'org:delete');
  const org = await repo.findOrg(ctx.db, orgId);
  if (!org) throw identityErrors.ORG_NOT_FOUND();
  if (org.personal) throw identityErrors.ORG_PERSONAL_UNDELETABLE();
  await inTransaction(ctx.db, async ({ trx, afterCommit }) => {
    await recordAudit(trx, { orgId, actor: scoped, action: 'ORG_DELETE', target: { type: 'organization', id: orgId }, ip, details: { name: org.name } });
    await repo.deleteOrg(trx, orgId, org.schema_name);
    afterCommit(() => ctx.cache.forgetOrg(orgId));
  });
}

export async function listMembers(ctx: IdentityContext, actor: OrgActor, limit: number, offset: number) {
  const [rows, total] = await Promise.all([repo.listMembers(ctx.db, actor.orgId, limit, offset), repo.countMembers(ctx.db, actor.orgId)]);
  return {
    members: rows.map((r) => ({ userId: r.id, name: r.name, email: r.email, role: r.role, joinedAt: r.created_at.toISOString() })),
    total,
  };
}

/**
 * Changes a member's role. Nobody grants above their own role or touches someone above it; only
 * owners make or unmake owners; the last owner stays an owner.
 */
export async function changeMemberRole(ctx: IdentityContext, actor: OrgActor, userId: string, role: Role, ip: string) {
  return inTransaction(ctx.db, async (uow) => {
    const { trx } = uow;
    const current = await repo.membershipRole(trx, actor.orgId, userId);
    if (!current) throw identityErrors.MEMBER_NOT_FOUND();
    if (!roleAtLeast(actor.role, role) || !roleAtLeast(actor.role, current)) throw identityErrors.MEMBER_ROLE_TOO_HIGH();
    if (current === 'owner' && role !== 'owner') {
      const owners = await repo.lockOwners(trx, actor.orgId);
      if (owners.length <= 1) throw identityErrors.MEMBER_LAST_OWNER();
    }
    await repo.setMemberRole(trx, actor.orgId, userId, role);
    await recordAudit(trx, {
      orgId: actor.orgId,
      actor,
      action: 'MEMBER_ROLE_CHANGE',
      target: { type: 'user', id: userId },
      ip,
      details: { from: current, to: role },
    });
    emitMemberChanged(ctx, uow, { orgId: actor.orgId, actor, userId, role });
    return { userId, role };
  });
}

/** Removes a member; any member may remove themselves (leave). */
export async function removeMember(ctx: IdentityContext, actor: OrgActor, userId: string, ip: string) {
  const self = actor.kind === 'user' && actor.userId === userId;
  if (!self) assertCan(actor, 'members:manage');
  await inTransaction(ctx.db, async (uow) => {
    const { trx } = uow;
    const current = await repo.membershipRole(trx, actor.orgId, userId);
    if (!current) throw identityErrors.MEMBER_NOT_FOUND();
    if (!self && !roleAtLeast(actor.role, current)) throw identityErrors.MEMBER_ROLE_TOO_HIGH();
    if (current === 'owner') {
      const owners = await repo.lockOwners(trx, actor.orgId);
      if (owners.length <= 1) throw identityErrors.MEMBER_LAST_OWNER();
    }
    await repo.deleteMembership(trx, actor.orgId, userId);
    const revoked = await keys.revokePersonalKeysOf(trx, actor.orgId, userId);
    await recordAudit(trx, {
      orgId: actor.orgId,
      actor,
      action: self ? 'MEMBER_LEAVE' : 'MEMBER_REMOVE',
      target: { type: 'user', id: userId },
      ip,
      details: { role: current, personalKeysRevoked: revoked.length },
    });
    emitMemberChanged(ctx, uow, { orgId: actor.orgId, actor, userId, role: null });
    for (const k of revoked) emitKeyRevoked(ctx, uow, { orgId: actor.orgId, actor, keyId: k.id, keyHash: k.key_hash });
  });
}
