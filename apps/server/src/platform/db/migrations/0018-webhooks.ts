import { type Kysely, sql } from 'kysely';

/**
 * Outbound webhooks (issue #27, SPEC §6):
 * - `webhooks`: an organization's subscriptions. The signing secret is sealed with the
 *   organization's data key (AES-256-GCM, as vault secrets are); `creator_*` is whose authority a
 *   delivery acts with (checked at each send). `version` orders the changes every process's
 *   subscription index applies.
 * - `webhook_deliveries`: one event for one subscription; its id (the `webhook-id` header) is
 *   derived from the event id and the subscription id, so a redelivered event is the same row.
 *   `next_attempt_at` is when it is due (a claimed row's lease while it is being sent); null once
 *   it is final (delivered, failed, skipped).
 * - `webhook_attempts`: every attempt (status, duration, response excerpt, error).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table webhooks (
      id uuid primary key,
      org_id uuid not null references organizations (id) on delete cascade,
      url text not null,
      events text[] not null,
      model text,
      filter jsonb,
      description text,
      enabled boolean not null default true,
      disabled_reason text,
      secret_ciphertext bytea not null,
      secret_key_version integer not null,
      creator_kind text not null,
      creator_user_id uuid references users (id) on delete set null,
      creator_key_id uuid,
      version integer not null default 1,
      last_success_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index webhooks_org on webhooks (org_id, created_at, id);
    create table webhook_deliveries (
      id uuid primary key,
      webhook_id uuid not null references webhooks (id) on delete cascade,
      org_id uuid not null,
      event_id uuid not null,
      event_type text not null,
      body text not null,
      status text not null,
      attempts integer not null default 0,
      next_attempt_at timestamptz,
      last_status_code integer,
      last_error text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where next_attempt_at is not null;
    create index webhook_deliveries_hook on webhook_deliveries (webhook_id, created_at desc, id desc);
    create table webhook_attempts (
      id bigint generated always as identity primary key,
      delivery_id uuid not null references webhook_deliveries (id) on delete cascade,
      attempt integer not null,
      status_code integer,
      duration_ms integer not null,
      response_excerpt text,
      error text,
      at timestamptz not null
    );
    create index webhook_attempts_delivery on webhook_attempts (delivery_id, id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists webhook_attempts, webhook_deliveries, webhooks`.execute(db);
}
