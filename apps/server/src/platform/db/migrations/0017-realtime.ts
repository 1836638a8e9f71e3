import { type Kysely, sql } from 'kysely';

/**
 * Realtime (issue #27), shared by every api process of an installation:
 * - `realtime_tickets`: single-use SSE tickets (EventSource sends no headers). Stored by the SHA-256
 *   of the ticket; `credential` is the caller's token or key sealed with the instance master key,
 *   so the stream is authenticated by the one authenticator on whichever process it lands on.
 *   Consumed by `delete … returning`; expired rows are pruned.
 * - `realtime_events`: the replay log for SSE reconnects (Last-Event-ID), written in batches by
 *   processes that have realtime subscribers (`on conflict do nothing`: several processes log the
 *   same event); `seq` orders it; pruned past the replay window.
 * - `realtime_presence`: who has a flow open, one row per connection; the owning process renews
 *   `expires_at`, so the rows of a process that died lapse on their own.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table realtime_tickets (
      hash text primary key,
      credential bytea not null,
      org_id text,
      expires_at timestamptz not null
    );
    create table realtime_events (
      seq bigint generated always as identity primary key,
      event_id uuid not null unique,
      org_id text not null,
      type text not null,
      logged_at timestamptz not null default now(),
      payload jsonb not null
    );
    create index realtime_events_org on realtime_events (org_id, seq);
    create index realtime_events_logged on realtime_events (logged_at);
    create table realtime_presence (
      connection_id text not null,
      org_id text not null,
      flow_id text not null,
      user_id text not null,
      name text not null,
      expires_at timestamptz not null,
      primary key (connection_id, flow_id)
    );
    create index realtime_presence_flow on realtime_presence (org_id, flow_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists realtime_tickets, realtime_events, realtime_presence`.execute(db);
}
