import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table actions (
      id uuid primary key,
      org_id uuid not null references organizations (id) on delete cascade,
      name text not null,
      description text not null default '',
      params jsonb not null,
      steps jsonb not null,
      created_by text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (org_id, name)
    );
    create table action_runs (
      id uuid primary key,
      org_id uuid not null references organizations (id) on delete cascade,
      action_id uuid not null references actions (id) on delete cascade,
      status text not null check (status in ('queued', 'running', 'succeeded', 'failed')),
      input jsonb not null,
      output jsonb,
      error jsonb,
      logs jsonb not null default '[]'::jsonb,
      actor text,
      started_at timestamptz,
      finished_at timestamptz,
      duration_ms double precision,
      created_at timestamptz not null default now()
    );
    create index action_runs_action_idx on action_runs (action_id, created_at desc);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists action_runs, actions`.execute(db);
}
