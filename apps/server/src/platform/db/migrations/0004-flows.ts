import { type Kysely, sql } from 'kysely';

/**
 * Flows, their versions, executions (which are also the work queue: claimed with
 * FOR UPDATE SKIP LOCKED and held by a lease) and the stored run of every node.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table flows (
      id uuid primary key,
      org_id uuid not null references organizations (id) on delete cascade,
      name text not null,
      description text not null default '',
      nodes jsonb not null,
      edges jsonb not null,
      settings jsonb not null,
      version integer not null default 1,
      active boolean not null default false,
      slug text unique,
      publish jsonb,
      created_by text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index flows_org_idx on flows (org_id, created_at desc);
    create table flow_versions (
      flow_id uuid not null references flows (id) on delete cascade,
      version integer not null,
      org_id uuid not null,
      name text not null,
      description text not null default '',
      nodes jsonb not null,
      edges jsonb not null,
      settings jsonb not null,
      created_by text,
      created_at timestamptz not null default now(),
      primary key (flow_id, version)
    );
    create table executions (
      id uuid primary key,
      org_id uuid not null references organizations (id) on delete cascade,
      flow_id uuid not null references flows (id) on delete cascade,
      flow_version integer not null,
      status text not null check (status in ('queued', 'running', 'waiting', 'succeeded', 'failed', 'canceled')),
      trigger text not null,
      start_node text,
      input jsonb,
      output jsonb,
      error jsonb,
      store_data boolean not null default true,
      use_pins boolean not null default false,
      parent_id uuid,
      wait jsonb,
      run_at timestamptz not null default now(),
      lease_owner text,
      lease_until timestamptz,
      claims integer not null default 0,
      steps integer not null default 0,
      started_at timestamptz,
      finished_at timestamptz,
      duration_ms double precision,
      created_at timestamptz not null default now()
    );
    create index executions_queue_idx on executions (run_at) where status = 'queued';
    create index executions_lease_idx on executions (lease_until) where status = 'running';
    create index executions_waiting_idx on executions (run_at) where status = 'waiting';
    create index executions_flow_idx on executions (org_id, flow_id, created_at desc);
    create index executions_org_idx on executions (org_id, created_at desc);
    create table node_runs (
      id bigint generated always as identity primary key,
      execution_id uuid not null references executions (id) on delete cascade,
      node_id text not null,
      node_name text not null,
      node_type text not null,
      status text not null check (status in ('succeeded', 'failed')),
      ports jsonb,
      input jsonb,
      error jsonb,
      logs jsonb not null default '[]'::jsonb,
      attempts integer not null,
      data_stored boolean not null default true,
      started_at timestamptz not null,
      finished_at timestamptz not null,
      duration_ms double precision not null
    );
    create index node_runs_execution_idx on node_runs (execution_id, id);
    -- One row per schedule tick: the scheduler process that inserts it runs the tick, the others
    -- see the conflict and skip (exactly one run per tick with several schedulers).
    create table schedule_ticks (
      flow_id uuid not null references flows (id) on delete cascade,
      node_id text not null,
      tick_at timestamptz not null,
      primary key (flow_id, node_id, tick_at)
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists schedule_ticks, node_runs, executions, flow_versions, flows`.execute(db);
}
