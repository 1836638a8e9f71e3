import { type Kysely, sql } from 'kysely';

/**
 * Usage alerts by email are a durable consumer of `usage.alert` (issue #26), delivered at least
 * once: `notifications.mailed_at` is claimed before the email is sent (and released when sending
 * fails), so a redelivered event sends nothing twice.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table notifications add column mailed_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table notifications drop column if exists mailed_at`.execute(db);
}
