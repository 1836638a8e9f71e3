import { type Kysely, sql } from 'kysely';

/**
 * Operations: per-key rate limits, plans and Stripe links on organizations, usage alerts and
 * in-app notifications, processed Stripe events (idempotency), and the request and app logs.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table api_keys add column rate_limit integer check (rate_limit > 0);

    alter table organizations add constraint organizations_plan_check check (plan in ('free', 'pro', 'enterprise'));
    alter table organizations add column stripe_customer_id text unique;
    alter table organizations add column stripe_subscription_id text;

    create table usage_alerts (
      org_id uuid not null references organizations (id) on delete cascade,
      metric text not null,
      threshold integer not null,
      period text not null,
      created_at timestamptz not null default now(),
      primary key (org_id, metric, threshold, period)
    );

    create table notifications (
      id uuid primary key,
      org_id uuid not null references organizations (id) on delete cascade,
      kind text not null,
      title text not null,
      body text not null,
      data jsonb not null default '{}',
      read_at timestamptz,
      created_at timestamptz not null default now()
    );
    create index notifications_org_idx on notifications (org_id, created_at desc);

    create table stripe_events (
      id text primary key,
      type text not null,
      org_id uuid,
      processed_at timestamptz not null default now()
    );

    -- The logs are diagnostics: unlogged tables (no WAL) make their writes cheap; a crash of the
    -- database server empties them, which is acceptable for what they hold. Pruning by time scans
    -- (hourly); the indexes serve the log viewer and /stats.
    create unlogged table request_log (
      id bigint generated always as identity primary key,
      at timestamptz not null,
      request_id text not null,
      method text not null,
      route text,
      status integer not null,
      duration_ms real not null,
      bytes integer not null,
      org_id uuid,
      actor_kind text,
      actor_id text,
      ip text
    );
    create index request_log_org_at_idx on request_log (org_id, at);
    create index request_log_request_idx on request_log (request_id);

    create unlogged table app_log (
      id bigint generated always as identity primary key,
      at timestamptz not null,
      level text not null,
      service text not null,
      request_id text,
      org_id uuid,
      message text not null,
      data jsonb not null default '{}'
    );
    create index app_log_org_at_idx on app_log (org_id, at);
    create index app_log_request_idx on app_log (request_id);
  `.execute(db);
}
