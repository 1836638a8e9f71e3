import { type Kysely, sql } from 'kysely';

/**
 * Exactly-once effects and resumable loops (issue #25):
 * - `flow_effects`: one row per applied side effect of a flow node, keyed by the execution and the
 *   node's idempotency key (`executionId:nodeId[:item]`), written in the same transaction as the
 *   effect (a data node's record write). A step that runs again after a crash finds its row and
 *   returns the stored result instead of writing twice.
 * - `loop_items`: a checkpoint per completed item of a loop whose body has effects, so a resumed
 *   execution continues after the last completed item instead of from item 0.
 * - `executions.reclaims`: how often a running execution was taken over after its lease lapsed
 *   (its worker died); past the configured cap the execution fails instead of being claimed again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table flow_effects (
      execution_id uuid not null references executions (id) on delete cascade,
      key text not null,
      result jsonb,
      created_at timestamptz not null default now(),
      primary key (execution_id, key)
    );
    create table loop_items (
      execution_id uuid not null references executions (id) on delete cascade,
      node_id text not null,
      item text not null,
      result jsonb,
      primary key (execution_id, node_id, item)
    );
    alter table executions add column reclaims integer not null default 0;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists loop_items, flow_effects; alter table executions drop column if exists reclaims`.execute(db);
}
