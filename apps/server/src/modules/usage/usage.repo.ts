import { type Kysely, type Transaction, sql } from 'kysely';
import type { ColumnType } from 'kysely';
import type { Metric, PlanName } from '../../config/index.js';
import { newId } from '../../platform/ids.js';

export interface UsageAlertsTable {
  org_id: string;
  metric: string;
  threshold: number;
  period: string;
  created_at: ColumnType<Date, never, never>;
}

export interface NotificationsTable {
  id: string;
  org_id: string;
  kind: string;
  title: string;
  body: string;
  data: ColumnType<Record<string, unknown>, string, never>;
  read_at: Date | null;
  /** When the alert email was claimed for sending (null: not emailed). */
  mailed_at: ColumnType<Date | null, never, Date | null>;
  created_at: ColumnType<Date, never, never>;
}

export interface UsageTables {
  usage_alerts: UsageAlertsTable;
  notifications: NotificationsTable;
}

type Db = Kysely<UsageTables> | Transaction<UsageTables>;

/** The first instant of the current calendar month, UTC. */
export function monthStart(now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

export async function planOf(db: Db, orgId: string): Promise<PlanName | null> {
  const r = await sql<{ plan: PlanName }>`select plan from organizations where id = ${orgId}`.execute(db);
  return r.rows[0]?.plan ?? null;
}

async function scalar(db: Db, q: ReturnType<typeof sql<{ n: string | number | null }>>): Promise<number> {
  const r = await q.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}

/** How much of a metric the organization uses now (counts are exact; storage in MiB). */
export async function measure(db: Db, orgId: string, metric: Metric): Promise<number> {
  switch (metric) {
    case 'agents':
      return scalar(db, sql`select count(*) as n from agents where org_id = ${orgId}`);
    case 'flows':
      return scalar(db, sql`select count(*) as n from flows where org_id = ${orgId}`);
    case 'models':
      return scalar(db, sql`select count(*) as n from models where org_id = ${orgId}`);
    case 'executionsPerMonth':
      return scalar(db, sql`select count(*) as n from executions where org_id = ${orgId} and created_at >= ${monthStart()} and parent_id is null`);
    case 'tokensPerMonth':
      return scalar(
        db,
        sql`select coalesce(sum(input_tokens + output_tokens), 0) as n from ai_usage where org_id = ${orgId} and created_at >= ${monthStart()}`,
      );
    case 'storageMb':
      return (
        (await scalar(
          db,
          sql`select coalesce(sum(pg_total_relation_size(c.oid)), 0) as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
              join organizations o on o.schema_name = n.nspname where o.id = ${orgId} and c.relkind = 'r'`,
        )) /
        (1024 * 1024)
      );
    case 'records': {
      const r = await sql<{
        schema_name: string;
        name: string;
      }>`select o.schema_name, m.name from models m join organizations o on o.id = m.org_id where m.org_id = ${orgId}`.execute(db);
      if (!r.rows.length) return 0;
      const parts = r.rows.map((m) => sql`select count(*) as n from ${sql.id(m.schema_name, m.name)}`);
      return scalar(db, sql`select sum(n) as n from (${sql.join(parts, sql` union all `)}) t`);
    }
    default: {
      const never: never = metric;
      return never;
    }
  }
}

/** Records that an alert fired; false when it had already fired for this metric, threshold and period. */
export async function claimAlert(db: Db, a: { orgId: string; metric: Metric; threshold: number; period: string }): Promise<boolean> {
  const r = await db
    .insertInto('usage_alerts')
    .values({ org_id: a.orgId, metric: a.metric, threshold: a.threshold, period: a.period })
    .onConflict((oc) => oc.doNothing())
    .returning('org_id')
    .executeTakeFirst();
  return Boolean(r);
}

export async function insertNotification(db: Db, n: { orgId: string; kind: string; title: string; body: string; data: Record<string, unknown> }) {
  return db
    .insertInto('notifications')
    .values({ id: newId(), org_id: n.orgId, kind: n.kind, title: n.title, body: n.body, data: JSON.stringify(n.data) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Claims a notification's email: the notification, once; undefined when it is gone or was claimed
 * already (a redelivered event sends nothing twice).
 */
export async function claimMail(db: Db, orgId: string, id: string) {
  return db
    .updateTable('notifications')
    .set({ mailed_at: new Date() })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .where('mailed_at', 'is', null)
    .returning(['title', 'body'])
    .executeTakeFirst();
}

/** Gives a claim back when the email could not be sent, so the next delivery tries again. */
export async function releaseMail(db: Db, id: string): Promise<void> {
  await db.updateTable('notifications').set({ mailed_at: null }).where('id', '=', id).execute();
}

export async function listNotifications(db: Db, orgId: string, f: { unread?: boolean; limit: number; offset: number }) {
  let q = db.selectFrom('notifications').where('org_id', '=', orgId);
  if (f.unread) q = q.where('read_at', 'is', null);
  const [rows, total, unread] = await Promise.all([
    q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit).offset(f.offset).execute(),
    q.select(sql<string>`count(*)`.as('n')).executeTakeFirst(),
    db
      .selectFrom('notifications')
      .where('org_id', '=', orgId)
      .where('read_at', 'is', null)
      .select(sql<string>`count(*)`.as('n'))
      .executeTakeFirst(),
  ]);
  return { rows, total: Number(total?.n ?? 0), unread: Number(unread?.n ?? 0) };
}

/** Marks one notification (or, without an id, all of them) read; returns how many changed. */
export async function markRead(db: Db, orgId: string, id?: string): Promise<number> {
  let q = db.updateTable('notifications').set({ read_at: new Date() }).where('org_id', '=', orgId).where('read_at', 'is', null);
  if (id) q = q.where('id', '=', id);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function notificationExists(db: Db, orgId: string, id: string): Promise<boolean> {
  return Boolean(await db.selectFrom('notifications').select('id').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst());
}

/** Email addresses of the organization's owners and admins. */
export async function managerEmails(db: Db, orgId: string): Promise<string[]> {
  const r = await sql<{
    email: string;
  }>`select u.email from memberships m join users u on u.id = m.user_id where m.org_id = ${orgId} and m.role in ('owner', 'admin') order by u.email`.execute(
    db,
  );
  return r.rows.map((x) => x.email);
}
