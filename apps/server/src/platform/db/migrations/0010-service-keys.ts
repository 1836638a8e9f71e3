import { type Kysely, sql } from 'kysely';

/**
 * API keys get a kind (issue #25). A `personal` key acts for the person who created it and never
 * above what that person may do now: its effective role is the lower of its own and its creator's
 * current role, and it stops working when the creator leaves the organization. A `service` key
 * belongs to the organization: its authority is the role it was given, and it outlives its
 * creator (integrations keep running when someone leaves). Every existing key was made by a
 * person, so every existing key is personal.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table api_keys add column kind text not null default 'personal' check (kind in ('personal', 'service'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table api_keys drop column kind`.execute(db);
}
