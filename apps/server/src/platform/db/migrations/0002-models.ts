import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table models (
      id uuid primary key,
      org_id uuid not null references organizations (id) on delete cascade,
      name text not null,
      label text not null,
      description text not null default '',
      fields jsonb not null,
      version integer not null default 1,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (org_id, name)
    );

    create table model_versions (
      id uuid primary key,
      org_id uuid not null references organizations (id) on delete cascade,
      model_id uuid not null references models (id) on delete cascade,
      version integer not null,
      change jsonb not null,
      fields jsonb not null,
      name text not null,
      actor text,
      created_at timestamptz not null default now(),
      unique (model_id, version)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists model_versions, models`.execute(db);
}
