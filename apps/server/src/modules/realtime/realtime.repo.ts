import type { DomainEvent as TypedEvent } from '@infinity/contracts';
import { type Kysely, sql } from 'kysely';

/** Realtime's SQL (tables of migration 0017, and existence checks of what a channel names). */
export type Exec = Kysely<object>;

// ── tickets ─────────────────────────────────────────────────────────────────────────────────────
export async function insertTicket(db: Exec, t: { hash: string; credential: Buffer; orgId: string; ttlSeconds: number }): Promise<void> {
  await sql`insert into realtime_tickets (hash, credential, org_id, expires_at)
            values (${t.hash}, ${t.credential}, ${t.orgId}, now() + make_interval(secs => ${t.ttlSeconds}))`.execute(db);
}

/** Takes a ticket (single use: the row is deleted); undefined when unknown, used or expired. */
export async function takeTicket(db: Exec, hash: string): Promise<{ credential: Buffer; orgId: string | null } | undefined> {
  const r = await sql<{ credential: Buffer; org_id: string | null; live: boolean }>`
    delete from realtime_tickets where hash = ${hash} returning credential, org_id, expires_at > now() as live`.execute(db);
  const row = r.rows[0];
  return row?.live ? { credential: row.credential, orgId: row.org_id } : undefined;
}

// ── replay log ──────────────────────────────────────────────────────────────────────────────────
export async function logEvents(db: Exec, events: TypedEvent[]): Promise<void> {
  if (!events.length) return;
  await sql`insert into realtime_events (event_id, org_id, type, payload)
            select (e->>'id')::uuid, e->>'orgId', e->>'type', e from jsonb_array_elements(${JSON.stringify(events)}::jsonb) e
            on conflict (event_id) do nothing`.execute(db);
}

export async function pruneLog(db: Exec, olderThanSeconds: number): Promise<void> {
  await sql`delete from realtime_events where logged_at < now() - make_interval(secs => ${olderThanSeconds})`.execute(db);
  await sql`delete from realtime_tickets where expires_at < now()`.execute(db);
}

/**
 * The events of an organization logged after `afterId` (of these types), at most `limit`;
 * null when `afterId` is not in the log or older than the window.
 */
export async function eventsAfter(
  db: Exec,
  q: { orgId: string; afterId: string; types: readonly string[]; windowSeconds: number; limit: number },
): Promise<TypedEvent[] | null> {
  const at = await sql<{ seq: string }>`
    select seq from realtime_events where event_id = ${q.afterId}::uuid and org_id = ${q.orgId}
      and logged_at >= now() - make_interval(secs => ${q.windowSeconds})`.execute(db);
  const seq = at.rows[0]?.seq;
  if (seq === undefined) return null;
  const r = await sql<{ payload: TypedEvent }>`
    select payload from realtime_events where org_id = ${q.orgId} and seq > ${seq}
      and type in (${sql.join(q.types.map((t) => sql`${t}`))}) order by seq limit ${q.limit}`.execute(db);
  return r.rows.map((x) => x.payload);
}

// ── presence ────────────────────────────────────────────────────────────────────────────────────
export interface PresenceRow {
  connectionId: string;
  userId: string;
  name: string;
}

export async function openPresence(db: Exec, p: PresenceRow & { orgId: string; flowId: string; ttlSeconds: number }): Promise<void> {
  await sql`insert into realtime_presence (connection_id, org_id, flow_id, user_id, name, expires_at)
            values (${p.connectionId}, ${p.orgId}, ${p.flowId}, ${p.userId}, ${p.name}, now() + make_interval(secs => ${p.ttlSeconds}))
            on conflict (connection_id, flow_id) do update set expires_at = excluded.expires_at`.execute(db);
}

export async function closePresence(db: Exec, connectionId: string, flowId: string): Promise<void> {
  await sql`delete from realtime_presence where connection_id = ${connectionId} and flow_id = ${flowId}`.execute(db);
}

/** Renews this process's rows; rows of a process that stopped renewing lapse. */
export async function renewPresence(db: Exec, connectionIds: string[], ttlSeconds: number): Promise<void> {
  if (!connectionIds.length) return;
  await sql`update realtime_presence set expires_at = now() + make_interval(secs => ${ttlSeconds})
            where connection_id in (${sql.join(connectionIds.map((c) => sql`${c}`))})`.execute(db);
  await sql`delete from realtime_presence where expires_at < now()`.execute(db);
}

export async function presenceOf(db: Exec, orgId: string, flowId: string): Promise<PresenceRow[]> {
  const r = await sql<{ connection_id: string; user_id: string; name: string }>`
    select connection_id, user_id, name from realtime_presence
     where org_id = ${orgId} and flow_id = ${flowId} and expires_at > now() order by connection_id`.execute(db);
  return r.rows.map((x) => ({ connectionId: x.connection_id, userId: x.user_id, name: x.name }));
}

// ── what channels name ──────────────────────────────────────────────────────────────────────────
const EXISTS = {
  execution: sql`executions`,
  flow: sql`flows`,
  agent: sql`agents`,
  conversation: sql`conversations`,
};

/** Whether a row of this kind with this id exists in the organization. */
export async function existsInOrg(db: Exec, kind: keyof typeof EXISTS, id: string, orgId: string): Promise<boolean> {
  const r = await sql<{ ok: boolean }>`select exists(select 1 from ${EXISTS[kind]} where id = ${id}::uuid and org_id = ${orgId}::uuid) as ok`.execute(db);
  return r.rows[0]?.ok === true;
}

export async function userName(db: Exec, userId: string): Promise<string | undefined> {
  const r = await sql<{ name: string }>`select name from users where id = ${userId}::uuid`.execute(db);
  return r.rows[0]?.name;
}
