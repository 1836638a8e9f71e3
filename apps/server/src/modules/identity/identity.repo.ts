import type { Role } from '@infinity/contracts';
import { type Kysely, type Transaction, sql } from 'kysely';
import type { IdentityTables } from './identity.tables.js';

/** SQL for users, organizations and memberships. Knows nothing of actors or HTTP. */
export type IdDb = Kysely<IdentityTables>;
type Exec = IdDb | Transaction<IdentityTables>;

export const userColumns = ['id', 'email', 'name', 'default_org_id', 'created_at'] as const;

export function findUserByEmail(db: Exec, email: string) {
  return db
    .selectFrom('users')
    .selectAll()
    .where(sql<string>`lower(email)`, '=', email.toLowerCase())
    .executeTakeFirst();
}

export function findUser(db: Exec, id: string) {
  return db.selectFrom('users').select(userColumns).where('id', '=', id).executeTakeFirst();
}

export async function setDefaultOrg(db: Exec, userId: string, orgId: string | null) {
  await db.updateTable('users').set({ default_org_id: orgId, updated_at: new Date() }).where('id', '=', userId).execute();
}

export const orgColumns = ['id', 'name', 'slug', 'personal', 'schema_name', 'plan', 'created_at', 'updated_at'] as const;

export async function insertOrg(db: Exec, o: { id: string; name: string; slug: string; personal: boolean; schemaName: string; plan: string }) {
  await db
    .insertInto('organizations')
    .values({ id: o.id, name: o.name, slug: o.slug, personal: o.personal, schema_name: o.schemaName, plan: o.plan })
    .execute();
  // Each organization's data models live in their own schema (SPEC §4); the name is derived from our own id.
  await sql`create schema ${sql.id(o.schemaName)}`.execute(db);
}

export function findOrg(db: Exec, id: string) {
  return db.selectFrom('organizations').select(orgColumns).where('id', '=', id).executeTakeFirst();
}

export async function updateOrg(db: Exec, id: string, patch: { name?: string }) {
  return db
    .updateTable('organizations')
    .set({ ...patch, updated_at: new Date() })
    .where('id', '=', id)
    .returning(orgColumns)
    .executeTakeFirst();
}

export async function deleteOrg(db: Exec, id: string, schemaName: string) {
  await sql`drop schema if exists ${sql.id(schemaName)} cascade`.execute(db);
  await db.updateTable('users').set({ default_org_id: null }).where('default_org_id', '=', id).execute();
  await db.deleteFrom('organizations').where('id', '=', id).execute();
}

export function orgsOfUser(db: Exec, userId: string) {
  return db
    .selectFrom('memberships as m')
    .innerJoin('organizations as o', 'o.id', 'm.org_id')
    .select(['o.id', 'o.name', 'o.slug', 'o.personal', 'o.schema_name', 'o.plan', 'o.created_at', 'o.updated_at', 'm.role'])
    .where('m.user_id', '=', userId)
    .orderBy('o.created_at')
    .execute();
}

export async function membershipRole(db: Exec, orgId: string, userId: string): Promise<Role | undefined> {
  const row = await db.selectFrom('memberships').select('role').where('org_id', '=', orgId).where('user_id', '=', userId).executeTakeFirst();
  return row?.role;
}

export async function insertMembership(db: Exec, orgId: string, userId: string, role: Role) {
  await db.insertInto('memberships').values({ org_id: orgId, user_id: userId, role }).execute();
}

export function listMembers(db: Exec, orgId: string, limit: number, offset: number) {
  return db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.name', 'u.email', 'm.role', 'm.created_at'])
    .where('m.org_id', '=', orgId)
    .orderBy('m.created_at')
    .orderBy('u.id')
    .limit(limit)
    .offset(offset)
    .execute();
}

export async function countMembers(db: Exec, orgId: string): Promise<number> {
  const r = await db
    .selectFrom('memberships')
    .select(sql<number>`count(*)`.as('n'))
    .where('org_id', '=', orgId)
    .executeTakeFirstOrThrow();
  return r.n;
}

/** Owners of the organization, locked: concurrent demotions cannot both see "another owner remains". */
export async function lockOwners(trx: Transaction<IdentityTables>, orgId: string): Promise<string[]> {
  const rows = await trx.selectFrom('memberships').select('user_id').where('org_id', '=', orgId).where('role', '=', 'owner').forUpdate().execute();
  return rows.map((r) => r.user_id);
}

export async function setMemberRole(db: Exec, orgId: string, userId: string, role: Role) {
  await db.updateTable('memberships').set({ role, updated_at: new Date() }).where('org_id', '=', orgId).where('user_id', '=', userId).execute();
}

export async function deleteMembership(db: Exec, orgId: string, userId: string) {
  await db.deleteFrom('memberships').where('org_id', '=', orgId).where('user_id', '=', userId).execute();
}
