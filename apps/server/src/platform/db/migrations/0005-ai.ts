import { type Kysely, sql } from 'kysely';

/**
 * AI: one row per model call (usage and quota), and the embedding settings of a model (its
 * vector column and bookkeeping columns live in the model's own table, added when enabled).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table ai_usage (
      id bigint generated always as identity primary key,
      org_id uuid not null references organizations (id) on delete cascade,
      provider text not null,
      model text not null,
      kind text not null,
      input_tokens integer not null default 0,
      output_tokens integer not null default 0,
      latency_ms integer not null default 0,
      source text,
      created_at timestamptz not null default now()
    );
    create index ai_usage_org_idx on ai_usage (org_id, created_at);
    alter table models add column embedding jsonb;
  `.execute(db);
  // Similarity of unit vectors stored as real[] (PostgreSQL without pgvector: exact scans).
  await sql`
    create or replace function public.infinity_dot(a real[], b real[]) returns double precision
    language sql immutable parallel safe
    as 'select sum(x * y) from unnest(a, b) as t(x, y)'
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists public.infinity_dot(real[], real[]); drop table if exists ai_usage; alter table models drop column if exists embedding`.execute(
    db,
  );
}
