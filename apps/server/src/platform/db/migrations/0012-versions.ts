import { type Kysely, sql } from 'kysely';

/**
 * Agents and actions carry a version, raised by every change: `GET` answers it as the ETag and a
 * write with a stale `If-Match` is refused (SPEC §6). Flows and models have had theirs since 0004
 * and 0002; records use their `updated_at`. Adding a column with a constant default rewrites no rows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table agents add column if not exists version integer not null default 1`.execute(db);
  await sql`alter table actions add column if not exists version integer not null default 1`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table agents drop column if exists version`.execute(db);
  await sql`alter table actions drop column if exists version`.execute(db);
}
