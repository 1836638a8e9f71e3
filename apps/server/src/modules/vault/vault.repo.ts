import type { Kysely, Transaction } from 'kysely';
import type { VaultTables } from './vault.tables.js';

type Exec = Kysely<VaultTables> | Transaction<VaultTables>;

export const secretColumns = [
  'id',
  'org_id',
  'name',
  'provider',
  'base_url',
  'allowed_hosts',
  'hint',
  'data_key_version',
  'created_by',
  'created_at',
  'updated_at',
] as const;

export function latestDataKey(db: Exec, orgId: string) {
  return db.selectFrom('org_data_keys').selectAll().where('org_id', '=', orgId).orderBy('version', 'desc').limit(1).executeTakeFirst();
}

export function dataKey(db: Exec, orgId: string, version: number) {
  return db.selectFrom('org_data_keys').selectAll().where('org_id', '=', orgId).where('version', '=', version).executeTakeFirst();
}

/** First writer wins when two requests create an organization's first data key at once. */
export async function insertDataKey(db: Exec, row: { org_id: string; version: number; wrapped_key: Buffer; master_key_id: string }) {
  await db
    .insertInto('org_data_keys')
    .values(row)
    .onConflict((oc) => oc.columns(['org_id', 'version']).doNothing())
    .execute();
}

export function keysNotWrappedBy(db: Exec, masterKeyId: string, limit: number) {
  return db.selectFrom('org_data_keys').selectAll().where('master_key_id', '!=', masterKeyId).orderBy('org_id').orderBy('version').limit(limit).execute();
}

export async function rewrap(db: Exec, orgId: string, version: number, wrapped: Buffer, masterKeyId: string) {
  await db
    .updateTable('org_data_keys')
    .set({ wrapped_key: wrapped, master_key_id: masterKeyId })
    .where('org_id', '=', orgId)
    .where('version', '=', version)
    .execute();
}

export async function masterKeyIdsInUse(db: Exec): Promise<string[]> {
  return (await db.selectFrom('org_data_keys').select('master_key_id').distinct().execute()).map((r) => r.master_key_id);
}

export function listSecrets(db: Exec, orgId: string, limit: number, offset: number) {
  return db.selectFrom('secrets').select(secretColumns).where('org_id', '=', orgId).orderBy('name').limit(limit).offset(offset).execute();
}

export function findSecret(db: Exec, orgId: string, id: string) {
  return db.selectFrom('secrets').select(secretColumns).where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
}

export function findSecretWithCiphertext(db: Exec, orgId: string, id: string) {
  return db.selectFrom('secrets').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
}

export async function insertSecret(
  db: Exec,
  row: {
    id: string;
    org_id: string;
    name: string;
    provider: string;
    base_url: string | null;
    allowed_hosts: string[];
    ciphertext: Buffer;
    data_key_version: number;
    hint: string;
    created_by: string | null;
  },
) {
  return db
    .insertInto('secrets')
    .values({ ...row, allowed_hosts: JSON.stringify(row.allowed_hosts) })
    .returning(secretColumns)
    .executeTakeFirstOrThrow();
}

export async function updateSecret(
  db: Exec,
  orgId: string,
  id: string,
  patch: { name?: string; base_url?: string | null; allowed_hosts?: string[]; ciphertext?: Buffer; data_key_version?: number; hint?: string },
) {
  const { allowed_hosts, ...rest } = patch;
  return db
    .updateTable('secrets')
    .set({ ...rest, ...(allowed_hosts ? { allowed_hosts: JSON.stringify(allowed_hosts) } : {}), updated_at: new Date() })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .returning(secretColumns)
    .executeTakeFirst();
}

export async function deleteSecret(db: Exec, orgId: string, id: string) {
  return db.deleteFrom('secrets').where('org_id', '=', orgId).where('id', '=', id).returning(['id', 'name']).executeTakeFirst();
}

/** How many secrets listSecrets pages through (meta.total). */
export async function countSecrets(db: Exec, orgId: string): Promise<number> {
  return Number(
    (
      await db
        .selectFrom('secrets')
        .select((e) => e.fn.countAll<string>().as('n'))
        .where('org_id', '=', orgId)
        .executeTakeFirstOrThrow()
    ).n,
  );
}
