import { type Kysely, sql } from 'kysely';

/**
 * The event spine's tables (issue #26):
 * - `event_outbox`: a durable event some consumer wants, written in the same transaction as the
 *   change that produced it and drained after commit by workers holding a lease
 *   (`available_at` in the future = leased or backing off). `consumers` lists the consumers that
 *   have not handled it yet: each success removes one, so a failing consumer never replays the
 *   others; the row goes when the list is empty. A row that keeps failing is parked
 *   (`parked_at`, dead letter) and kept for inspection.
 * - `event_payloads`: messages too large for a NOTIFY payload (8,000 bytes) travel by reference:
 *   the sender stores the message here and notifies its id; rows are pruned after minutes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table event_outbox (
      id bigint generated always as identity primary key,
      event_id uuid not null,
      type text not null,
      org_id text,
      payload jsonb not null,
      consumers text[] not null,
      attempts integer not null default 0,
      available_at timestamptz not null default now(),
      created_at timestamptz not null default now(),
      last_error text,
      parked_at timestamptz
    );
    create index event_outbox_ready on event_outbox (available_at, id) where parked_at is null;
    create table event_payloads (
      id uuid primary key,
      body text not null,
      created_at timestamptz not null default now()
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists event_outbox, event_payloads`.execute(db);
}
