import { type Kysely, type Transaction, sql } from 'kysely';

type Db = Kysely<object> | Transaction<object>;

/**
 * System tables that are not data: sessions, logs (they have their own retention), scheduler and webhook-replay bookkeeping,
 * the event spine's delivery state (a restored outbox would replay deliveries), realtime's transient
 * state (SSE tickets hold sealed credentials for 30 s, the replay log and presence live minutes), outbound
 * webhooks' delivery log (a restored pending delivery would be sent again; the subscriptions themselves,
 * with their sealed secrets, are backed up), migration state.
 */
export const NOT_BACKED_UP = new Set([
  'refresh_tokens',
  'request_log',
  'app_log',
  'schedule_ticks',
  'webhook_replays',
  'event_outbox',
  'event_payloads',
  'realtime_tickets',
  'realtime_events',
  'realtime_presence',
  'webhook_deliveries',
  'webhook_attempts',
  'infinity_migrations',
  'infinity_migrations_lock',
]);

export interface Column {
  name: string;
  type: string;
  generated: boolean;
  identity: boolean;
}

export async function columnsOf(db: Db, schema: string, table: string): Promise<Column[]> {
  const r = await sql<{ column_name: string; udt_name: string; is_generated: string; is_identity: string }>`
    select column_name, udt_name, is_generated, is_identity from information_schema.columns
    where table_schema = ${schema} and table_name = ${table} order by ordinal_position`.execute(db);
  return r.rows.map((c) => ({ name: c.column_name, type: c.udt_name, generated: c.is_generated === 'ALWAYS', identity: c.is_identity === 'YES' }));
}

/** The system tables to back up, each after the tables it references (so rows restore in order). */
export async function systemTables(db: Db): Promise<string[]> {
  const tables = (
    await sql<{
      t: string;
    }>`select table_name as t from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`.execute(db)
  ).rows
    .map((r) => r.t)
    .filter((t) => !NOT_BACKED_UP.has(t));
  const fks = (
    await sql<{ child: string; parent: string }>`
      select c.relname as child, p.relname as parent from pg_constraint k
      join pg_class c on c.oid = k.conrelid join pg_class p on p.oid = k.confrelid
      join pg_namespace n on n.oid = c.relnamespace
      where k.contype = 'f' and n.nspname = 'public' and c.relname <> p.relname`.execute(db)
  ).rows;
  const order: string[] = [];
  const placed = new Set<string>();
  const visit = (t: string, path: Set<string>) => {
    if (placed.has(t) || path.has(t)) return;
    path.add(t);
    for (const fk of fks) if (fk.child === t && tables.includes(fk.parent)) visit(fk.parent, path);
    placed.add(t);
    order.push(t);
  };
  for (const t of tables) visit(t, new Set());
  return order;
}

/**
 * Which rows of a system table belong to one organization. Tables with an org_id column need no
 * rule; the others are listed. A new table without either makes an organization backup fail
 * loudly rather than silently leave it out.
 */
export function orgScope(table: string, columns: Column[], orgId: string) {
  if (table === 'organizations') return sql`id = ${orgId}`;
  if (table === 'users') return sql`id in (select user_id from memberships where org_id = ${orgId})`;
  // Per-execution bookkeeping: node data, exactly-once effect keys, loop checkpoints.
  if (table === 'node_runs' || table === 'flow_effects' || table === 'loop_items')
    return sql`execution_id in (select id from executions where org_id = ${orgId})`;
  if (columns.some((c) => c.name === 'org_id')) return sql`org_id = ${orgId}`;
  throw new Error(`No organization scope is defined for table ${table}: add one in modules/backup/catalog.ts.`);
}
