import type { Transaction } from 'kysely';
import { randomBytes } from 'node:crypto';
import { inTransaction } from '../../platform/db/index.js';
import { randomToken, sha256Hex } from '../../platform/crypto/index.js';
import { newId } from '../../platform/ids.js';
import { type Actor, type UserActor } from '../access/index.js';
import { recordAudit } from '../audit/index.js';
import type { IdentityContext } from './identity.context.js';
import { identityErrors } from './identity.errors.js';
import * as repo from './identity.repo.js';
import type { IdentityTables } from './identity.tables.js';
import { passwordProblem } from './password-strength.js';
import { dummyHash, hashPassword, verifyPassword } from './passwords.js';
import { type OrgDto, type UserDto, toOrg, toUser } from './serialize.js';
import * as sessions from './sessions.repo.js';
import { signAccessToken } from './tokens.js';

export interface SessionResult {
  user: UserDto;
  organization: OrgDto | null;
  accessToken: string;
  refreshToken: string;
  refreshExpiresAt: Date;
}

/** Slugs are readable and unique: "acme-3f9a2c". */
export function slugFor(name: string): string {
  const base =
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'org';
  return `${base}-${randomBytes(3).toString('hex')}`;
}

export function schemaNameFor(orgId: string): string {
  return `org_${orgId.replaceAll('-', '')}`;
}

/** Creates an organization, its schema and its first owner in the caller's transaction. */
export async function createOrgInTx(trx: Transaction<IdentityTables>, o: { name: string; personal: boolean; ownerId: string; plan: string }) {
  const id = newId();
  await repo.insertOrg(trx, { id, name: o.name, slug: slugFor(o.name), personal: o.personal, schemaName: schemaNameFor(id), plan: o.plan });
  await repo.insertMembership(trx, id, o.ownerId, 'owner');
  const org = await repo.findOrg(trx, id);
  if (!org) throw new Error('organization vanished inside its own transaction');
  return org;
}

async function issueSession(ctx: IdentityContext, trx: Transaction<IdentityTables>, userId: string, orgId: string | null, familyId: string) {
  const refreshToken = randomToken(32);
  const refreshExpiresAt = new Date(Date.now() + ctx.auth.refreshTokenTtl * 1000);
  await sessions.insertRefreshToken(trx, { id: newId(), familyId, userId, orgId, tokenHash: sha256Hex(refreshToken), expiresAt: refreshExpiresAt });
  const accessToken = await signAccessToken(ctx.jwtKey, { userId, orgId, sessionId: familyId }, ctx.auth.accessTokenTtl);
  return { accessToken, refreshToken, refreshExpiresAt };
}

async function orgView(trx: Transaction<IdentityTables>, orgId: string | null, userId: string): Promise<OrgDto | null> {
  if (!orgId) return null;
  const [org, role] = await Promise.all([repo.findOrg(trx, orgId), repo.membershipRole(trx, orgId, userId)]);
  return org && role ? toOrg(org, role) : null;
}

/** Refuses a common or guessable password with a field error (422), before anything is written. */
export async function assertStrongPassword(password: string, personal: { name?: string; email?: string }): Promise<void> {
  const problem = await passwordProblem(password, personal);
  if (problem) throw identityErrors.AUTH_PASSWORD_WEAK(`The password ${problem.message}.`, [problem]);
}

export async function signup(ctx: IdentityContext, input: { name: string; email: string; password: string }, ip: string): Promise<SessionResult> {
  const email = input.email.trim();
  await assertStrongPassword(input.password, { name: input.name, email });
  if (await repo.findUserByEmail(ctx.db, email)) throw identityErrors.AUTH_EMAIL_TAKEN();
  const passwordHash = await hashPassword(input.password);
  return inTransaction(ctx.db, async ({ trx }) => {
    const userId = newId();
    // The user row needs its default org and the org's membership needs the user: insert the user first, then point it.
    await trx.insertInto('users').values({ id: userId, email, name: input.name, password_hash: passwordHash, default_org_id: null }).execute();
    const org = await createOrgInTx(trx, { name: `${input.name}'s workspace`, personal: true, ownerId: userId, plan: ctx.defaultPlan });
    await repo.setDefaultOrg(trx, userId, org.id);
    const actor: UserActor = { kind: 'user', userId, orgId: org.id, role: 'owner', sessionId: '' };
    await recordAudit(trx, { orgId: org.id, actor, action: 'AUTH_SIGNUP', target: { type: 'user', id: userId }, ip });
    await recordAudit(trx, {
      orgId: org.id,
      actor,
      action: 'ORG_CREATE',
      target: { type: 'organization', id: org.id },
      ip,
      details: { name: org.name, personal: true },
    });
    const user = await repo.findUser(trx, userId);
    if (!user) throw new Error('user vanished inside its own transaction');
    const s = await issueSession(ctx, trx, userId, org.id, newId());
    return { user: toUser(user), organization: toOrg(org, 'owner'), ...s };
  }).catch((err: unknown) => {
    // Two sign-ups racing with one email: the unique index decides.
    if ((err as { code?: string }).code === '23505') throw identityErrors.AUTH_EMAIL_TAKEN();
    throw err;
  });
}

export async function login(ctx: IdentityContext, input: { email: string; password: string }, ip: string): Promise<SessionResult> {
  const email = input.email.trim();
  const wait = ctx.throttle.retryAfter(email, ip);
  if (wait > 0) throw identityErrors.AUTH_LOGIN_THROTTLED(`Too many failed logins; try again in ${wait} s.`, { retryAfter: wait });
  const user = await repo.findUserByEmail(ctx.db, email);
  const ok = await verifyPassword(user?.password_hash ?? (await dummyHash()), input.password);
  if (!user || !ok) {
    ctx.throttle.recordFailure(email, ip);
    await inTransaction(ctx.db, ({ trx }) =>
      recordAudit(trx, {
        orgId: user?.default_org_id ?? null,
        actor: { kind: 'anonymous' },
        action: 'AUTH_LOGIN_FAILED',
        ...(user ? { target: { type: 'user', id: user.id } } : {}),
        ip,
        // The email is recorded only for unknown accounts (instance chain): it is what an operator needs to spot a spray.
        details: user ? { reason: 'password' } : { reason: 'unknown_email', email: email.slice(0, 254) },
      }),
    );
    throw identityErrors.AUTH_INVALID_CREDENTIALS();
  }
  ctx.throttle.recordSuccess(email);
  return inTransaction(ctx.db, async ({ trx }) => {
    let orgId = user.default_org_id;
    if (orgId && !(await repo.membershipRole(trx, orgId, user.id))) orgId = null;
    orgId ??= (await repo.orgsOfUser(trx, user.id))[0]?.id ?? null;
    const actor: UserActor = { kind: 'user', userId: user.id, orgId, role: null, sessionId: '' };
    if (orgId) await recordAudit(trx, { orgId, actor, action: 'AUTH_LOGIN', target: { type: 'user', id: user.id }, ip });
    const s = await issueSession(ctx, trx, user.id, orgId, newId());
    return { user: toUser(user), organization: await orgView(trx, orgId, user.id), ...s };
  });
}

/**
 * Rotates the refresh token. A token that was already used means it leaked (or a client raced):
 * the whole family is revoked, so whoever holds the newer token is signed out too.
 */
export async function refresh(ctx: IdentityContext, refreshToken: string | undefined): Promise<SessionResult> {
  if (!refreshToken) throw identityErrors.AUTH_REFRESH_INVALID();
  const outcome = await inTransaction(ctx.db, async ({ trx }) => {
    const row = await sessions.lockRefreshToken(trx, sha256Hex(refreshToken));
    if (!row || row.revoked_at || row.expires_at.getTime() <= Date.now()) return { kind: 'invalid' as const };
    if (row.used_at) {
      await sessions.revokeFamily(trx, row.family_id, row.user_id);
      const orgId = row.org_id;
      if (orgId) {
        await recordAudit(trx, {
          orgId,
          actor: { kind: 'anonymous' },
          action: 'AUTH_REFRESH_REUSED',
          target: { type: 'user', id: row.user_id },
          details: { session: row.family_id },
        });
      }
      return { kind: 'reused' as const };
    }
    await sessions.markUsed(trx, row.id);
    const user = await repo.findUser(trx, row.user_id);
    if (!user) return { kind: 'invalid' as const };
    let orgId = row.org_id;
    if (orgId && !(await repo.membershipRole(trx, orgId, user.id))) orgId = null;
    const s = await issueSession(ctx, trx, user.id, orgId, row.family_id);
    return { kind: 'ok' as const, result: { user: toUser(user), organization: await orgView(trx, orgId, user.id), ...s } };
  });
  if (outcome.kind === 'invalid') throw identityErrors.AUTH_REFRESH_INVALID();
  if (outcome.kind === 'reused') throw identityErrors.AUTH_REFRESH_REUSED();
  return outcome.result;
}

export async function logout(ctx: IdentityContext, actor: UserActor): Promise<void> {
  await sessions.revokeFamily(ctx.db, actor.sessionId, actor.userId);
}

/**
 * Makes another organization the active one and issues an access token for it. The session must
 * still be alive (not logged out, not revoked for refresh-token reuse, not lapsed), and the new
 * token never outlives it: switching cannot extend access past the end of the session.
 */
export async function switchOrg(
  ctx: IdentityContext,
  actor: UserActor,
  orgId: string,
): Promise<{ accessToken: string; organization: OrgDto; expiresIn: number }> {
  const sessionEnds = await sessions.liveSessionExpiry(ctx.db, actor.sessionId, actor.userId);
  const left = sessionEnds ? Math.floor((sessionEnds.getTime() - Date.now()) / 1000) : 0;
  if (left <= 0) throw identityErrors.AUTH_SESSION_ENDED();
  const role = await repo.membershipRole(ctx.db, orgId, actor.userId);
  const org = role ? await repo.findOrg(ctx.db, orgId) : undefined;
  if (!role || !org) throw identityErrors.ORG_NOT_FOUND();
  await inTransaction(ctx.db, async ({ trx }) => {
    await repo.setDefaultOrg(trx, actor.userId, orgId);
    await sessions.setFamilyOrg(trx, actor.sessionId, actor.userId, orgId);
  });
  const expiresIn = Math.min(ctx.auth.accessTokenTtl, left);
  const accessToken = await signAccessToken(ctx.jwtKey, { userId: actor.userId, orgId, sessionId: actor.sessionId }, expiresIn);
  return { accessToken, organization: toOrg(org, role), expiresIn };
}

export interface MeView {
  kind: 'user' | 'apiKey';
  user: UserDto | null;
  apiKey: { id: string; name: string; prefix: string; kind: 'personal' | 'service' } | null;
  organization: OrgDto | null;
  role: string | null;
}

export async function me(ctx: IdentityContext, actor: Actor, apiKey?: MeView['apiKey']): Promise<MeView> {
  if (actor.kind === 'system' || actor.kind === 'flow' || actor.kind === 'service') throw new Error(`the ${actor.kind} actor has no /me`);
  const { orgId } = actor;
  type OrgRow = Awaited<ReturnType<typeof repo.findOrg>>;
  type UserRow = Awaited<ReturnType<typeof repo.findUser>>;
  const org = orgId ? (ctx.cache.peekView<OrgRow>(`org:${orgId}`) ?? (await ctx.cache.view(`org:${orgId}`, () => repo.findOrg(ctx.db, orgId)))) : undefined;
  const user =
    actor.kind === 'user'
      ? (ctx.cache.peekView<UserRow>(`user:${actor.userId}`) ?? (await ctx.cache.view(`user:${actor.userId}`, () => repo.findUser(ctx.db, actor.userId))))
      : undefined;
  return {
    kind: actor.kind,
    user: user ? toUser(user) : null,
    apiKey: actor.kind === 'apiKey' && apiKey ? apiKey : null,
    organization: org ? toOrg(org, actor.role) : null,
    role: actor.role,
  };
}
