import type { Role } from '@infinity/contracts';
import type { Kysely, Transaction } from 'kysely';
import type { ApiKeyKind, IdentityTables } from './identity.tables.js';

type Exec = Kysely<IdentityTables> | Transaction<IdentityTables>;

const columns = [
  'id',
  'org_id',
  'name',
  'prefix',
  'role',
  'kind',
  'created_by',
  'created_at',
  'expires_at',
  'last_used_at',
  'revoked_at',
  'rate_limit',
] as const;

export async function insertApiKey(
  db: Exec,
  k: {
    id: string;
    orgId: string;
    name: string;
    prefix: string;
    keyHash: string;
    role: Role;
    kind: ApiKeyKind;
    createdBy: string | null;
    expiresAt: Date | null;
    rateLimit: number | null;
  },
) {
  return db
    .insertInto('api_keys')
    .values({
      id: k.id,
      org_id: k.orgId,
      name: k.name,
      prefix: k.prefix,
      key_hash: k.keyHash,
      role: k.role,
      kind: k.kind,
      created_by: k.createdBy,
      expires_at: k.expiresAt,
      rate_limit: k.rateLimit,
    })
    .returning(columns)
    .executeTakeFirstOrThrow();
}

/** Live keys with their creator's name (null once that user is gone). */
export function listApiKeys(db: Exec, orgId: string, limit: number, offset: number) {
  return db
    .selectFrom('api_keys as k')
    .leftJoin('users as u', 'u.id', 'k.created_by')
    .select([
      'k.id',
      'k.org_id',
      'k.name',
      'k.prefix',
      'k.role',
      'k.kind',
      'k.created_by',
      'k.created_at',
      'k.expires_at',
      'k.last_used_at',
      'k.revoked_at',
      'k.rate_limit',
      'u.name as creator_name',
    ])
    .where('k.org_id', '=', orgId)
    .where('k.revoked_at', 'is', null)
    .orderBy('k.created_at', 'desc')
    .orderBy('k.id')
    .limit(limit)
    .offset(offset)
    .execute();
}

export async function revokeApiKey(db: Exec, orgId: string, id: string) {
  return db
    .updateTable('api_keys')
    .set({ revoked_at: new Date() })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returning(['id', 'key_hash'])
    .executeTakeFirst();
}

/** A removed member's personal keys, revoked with the membership (re-inviting them must not revive the keys). */
export async function revokePersonalKeysOf(db: Exec, orgId: string, userId: string) {
  return db
    .updateTable('api_keys')
    .set({ revoked_at: new Date() })
    .where('org_id', '=', orgId)
    .where('created_by', '=', userId)
    .where('kind', '=', 'personal')
    .where('revoked_at', 'is', null)
    .returning(['id', 'key_hash'])
    .execute();
}

/**
 * The lookup behind every API-key request (cached by the caller), with the creator's current role
 * in the key's organization (null when the creator is gone or no longer a member).
 */
export function findActiveKeyByHash(db: Exec, keyHash: string) {
  return db
    .selectFrom('api_keys as k')
    .leftJoin('memberships as m', (j) => j.onRef('m.org_id', '=', 'k.org_id').onRef('m.user_id', '=', 'k.created_by'))
    .select(['k.id', 'k.org_id', 'k.role', 'k.kind', 'k.name', 'k.prefix', 'k.created_by', 'k.expires_at', 'k.rate_limit', 'm.role as creator_role'])
    .where('k.key_hash', '=', keyHash)
    .where('k.revoked_at', 'is', null)
    .executeTakeFirst();
}

/** Batched: last-use times are written a few at a time off the request path. */
export async function touchApiKeys(db: Exec, uses: Map<string, Date>) {
  for (const [id, at] of uses) {
    await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }
}

/** How many keys listApiKeys pages through (meta.total). */
export async function countApiKeys(db: Exec, orgId: string): Promise<number> {
  const r = await db
    .selectFrom('api_keys')
    .select((e) => e.fn.countAll<string>().as('n'))
    .where('org_id', '=', orgId)
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
