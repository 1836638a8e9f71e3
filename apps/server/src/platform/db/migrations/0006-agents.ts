import { type Kysely, sql } from 'kysely';

/** Agents, their conversations and messages (with an embedding per message for long-term memory). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table agents (
      id uuid primary key,
      org_id uuid not null references organizations (id) on delete cascade,
      name text not null,
      description text not null default '',
      provider text not null,
      model text not null,
      secret_id uuid not null,
      system text not null default '',
      personality jsonb not null,
      voice jsonb,
      memory text not null,
      memory_tokens integer not null,
      tools jsonb not null,
      max_steps integer not null,
      temperature double precision,
      status text not null,
      slug text unique,
      created_by text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index agents_org_idx on agents (org_id, created_at desc);
    create table conversations (
      id uuid primary key,
      org_id uuid not null references organizations (id) on delete cascade,
      agent_id uuid not null references agents (id) on delete cascade,
      participant text not null,
      title text not null default '',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index conversations_agent_idx on conversations (agent_id, participant, updated_at desc);
    create table agent_messages (
      id uuid primary key,
      conversation_id uuid not null references conversations (id) on delete cascade,
      agent_id uuid not null,
      org_id uuid not null,
      role text not null,
      content text not null default '',
      tool jsonb,
      usage jsonb,
      embedding real[],
      created_at timestamptz not null default now()
    );
    create index agent_messages_conv_idx on agent_messages (conversation_id, id);
    create index agent_messages_memory_idx on agent_messages (agent_id) where embedding is not null;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists agent_messages, conversations, agents`.execute(db);
}
