import { type Role, roleAtLeast } from '@infinity/contracts';
import { inTransaction } from '../../platform/db/index.js';
import { randomToken, sha256Hex } from '../../platform/crypto/index.js';
import { newId } from '../../platform/ids.js';
import { type OrgActor, actorUserId } from '../access/index.js';
import { recordAudit } from '../audit/index.js';
import * as keys from './api-keys.repo.js';
import type { IdentityContext } from './identity.context.js';
import type { ApiKeyKind } from './identity.tables.js';
import { identityErrors } from './identity.errors.js';
import { API_KEY_PREFIX } from './tokens.js';
import { emitKeyRevoked } from './identity.events.js';

type KeyRow = Awaited<ReturnType<typeof keys.insertApiKey>> & { creator_name?: string | null };

function toApiKey(r: KeyRow) {
  return {
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    role: r.role,
    kind: r.kind,
    createdBy: r.created_by,
    createdByName: r.creator_name ?? null,
    createdAt: r.created_at.toISOString(),
    expiresAt: r.expires_at?.toISOString() ?? null,
    lastUsedAt: r.last_used_at?.toISOString() ?? null,
    rateLimit: r.rate_limit,
  };
}

/**
 * Creates a key for automation platforms. The key is 256 random bits: a plain SHA-256 identifies
 * it safely, so verifying a request costs a hash and (cached) lookup, never an Argon2 run.
 * A personal key acts for the person creating it (bounded by their role, dead when they leave);
 * a service-account key belongs to the organization. Nobody grants a role above their own.
 */
export async function createApiKey(
  ctx: IdentityContext,
  actor: OrgActor,
  input: { name: string; role: Role; kind?: ApiKeyKind | undefined; expiresAt?: Date | undefined; rateLimit?: number | undefined },
  ip: string,
) {
  if (!roleAtLeast(actor.role, input.role)) throw identityErrors.API_KEY_ROLE_TOO_HIGH();
  const kind = input.kind ?? 'personal';
  const createdBy = actorUserId(actor);
  // A personal key needs a person to act for: a service-account key (or a flow) has none.
  if (kind === 'personal' && !createdBy) throw identityErrors.API_KEY_PERSON_REQUIRED();
  // A service-account key outlives people and keys: only a signed-in owner or admin makes one, so a
  // key (personal, or service) cannot mint access that survives its own revocation or its creator.
  if (kind === 'service' && actor.kind !== 'user') throw identityErrors.API_KEY_SESSION_REQUIRED();
  const key = `${API_KEY_PREFIX}${randomToken(32)}`;
  return inTransaction(ctx.db, async ({ trx }) => {
    const row = await keys.insertApiKey(trx, {
      id: newId(),
      orgId: actor.orgId,
      name: input.name,
      prefix: key.slice(0, 12),
      keyHash: sha256Hex(key),
      role: input.role,
      kind,
      createdBy,
      expiresAt: input.expiresAt ?? null,
      rateLimit: input.rateLimit ?? null,
    });
    await recordAudit(trx, {
      orgId: actor.orgId,
      actor,
      action: 'API_KEY_CREATE',
      target: { type: 'api_key', id: row.id },
      ip,
      details: { name: row.name, role: row.role, kind: row.kind, prefix: row.prefix },
    });
    return { ...toApiKey(row), key };
  });
}

export async function listApiKeys(ctx: IdentityContext, actor: OrgActor, limit: number, offset: number) {
  return (await keys.listApiKeys(ctx.db, actor.orgId, limit, offset)).map(toApiKey);
}

export const countApiKeys = (ctx: IdentityContext, actor: OrgActor) => keys.countApiKeys(ctx.db, actor.orgId);

export async function revokeApiKey(ctx: IdentityContext, actor: OrgActor, id: string, ip: string) {
  await inTransaction(ctx.db, async (uow) => {
    const row = await keys.revokeApiKey(uow.trx, actor.orgId, id);
    if (!row) throw identityErrors.API_KEY_NOT_FOUND();
    await recordAudit(uow.trx, { orgId: actor.orgId, actor, action: 'API_KEY_REVOKE', target: { type: 'api_key', id }, ip });
    // Every process's principal cache forgets the key when the event arrives (this one at commit).
    emitKeyRevoked(ctx, uow, { orgId: actor.orgId, actor, keyId: id, keyHash: row.key_hash });
  });
}

/** Writes the last-use times gathered since the previous flush. */
export async function flushKeyUses(ctx: IdentityContext): Promise<void> {
  if (ctx.keyUses.size === 0) return;
  const batch = new Map(ctx.keyUses);
  ctx.keyUses.clear();
  await keys.touchApiKeys(ctx.db, batch);
}
