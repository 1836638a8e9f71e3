import type { DomainEvent as TypedEvent } from '@infinity/contracts';
import { type Kysely, type QueryExecutorProvider, sql } from 'kysely';

/**
 * The outbox (table `event_outbox`, migration 0014): durable events written in the writer's
 * transaction, drained after commit by workers holding a lease. SQL only; the drain loop is below.
 */

export interface OutboxRow {
  id: number;
  event_id: string;
  type: string;
  payload: TypedEvent;
  consumers: string[];
  attempts: number;
}

/** Consumer names travel as a text[] literal: they are checked against this pattern when registered. */
export const CONSUMER_NAME = /^[a-z][a-z0-9_.:-]{0,99}$/;

const textArray = (names: readonly string[]) => `{${names.join(',')}}`;

/** Inserts the rows of one transaction (chunked: a bulk write emits thousands). */
export async function insertOutbox(db: QueryExecutorProvider, rows: { event: TypedEvent; consumers: string[] }[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    const values = chunk.map(
      (r) => sql`(${r.event.id}::uuid, ${r.event.type}, ${r.event.orgId}, ${JSON.stringify(r.event)}::jsonb, ${textArray(r.consumers)}::text[])`,
    );
    await sql`insert into event_outbox (event_id, type, org_id, payload, consumers) values ${sql.join(values)}`.execute(db);
  }
}

/**
 * Claims up to `limit` ready rows that still need one of `consumers`, leasing them for `leaseMs`
 * (another worker takes them over only after the lease lapses: a crashed worker's rows are not
 * lost). SKIP LOCKED lets several workers claim side by side.
 */
export async function claimOutbox(db: Kysely<object>, consumers: readonly string[], limit: number, leaseMs: number): Promise<OutboxRow[]> {
  const r = await sql<OutboxRow>`
    update event_outbox o
       set available_at = now() + make_interval(secs => ${leaseMs / 1000}), attempts = o.attempts + 1
     where o.id in (
       select id from event_outbox
        where parked_at is null and available_at <= now() and consumers && ${textArray(consumers)}::text[]
        order by id
        limit ${limit}
        for update skip locked)
    returning o.id, o.event_id, o.type, o.payload, o.consumers, o.attempts`.execute(db);
  return r.rows.sort((a, b) => a.id - b.id);
}

export async function deleteOutbox(db: Kysely<object>, ids: number[]): Promise<void> {
  if (ids.length) await sql`delete from event_outbox where id = any(${`{${ids.join(',')}}`}::bigint[])`.execute(db);
}

/** Some consumers failed: keep those, and retry after `delayMs` — or park the row (dead letter). */
export async function retryOutbox(db: Kysely<object>, row: { id: number; consumers: string[]; error: string; delayMs: number; park: boolean }): Promise<void> {
  await sql`
    update event_outbox
       set consumers = ${textArray(row.consumers)}::text[], last_error = ${row.error.slice(0, 2000)},
           available_at = now() + make_interval(secs => ${row.delayMs / 1000}),
           parked_at = ${row.park ? sql`now()` : sql`null`}
     where id = ${row.id}`.execute(db);
}

/** Rows waiting for a consumer (not parked): tests and diagnostics. */
export async function pendingOutbox(db: Kysely<object>): Promise<{ id: number; type: string; consumers: string[]; attempts: number; parked: boolean }[]> {
  const r = await sql<{ id: number; type: string; consumers: string[]; attempts: number; parked: boolean }>`
    select id, type, consumers, attempts, parked_at is not null as parked from event_outbox order by id`.execute(db);
  return r.rows;
}

/** Parked rows older than `days` and message payloads older than ten minutes go. */
export async function pruneOutbox(db: Kysely<object>, days: number): Promise<void> {
  await sql`delete from event_outbox where parked_at < now() - make_interval(days => ${days})`.execute(db);
  await sql`delete from event_payloads where created_at < now() - interval '10 minutes'`.execute(db);
}

/** Reclaims the dead row versions drained rows leave (for a database without autovacuum). */
export async function vacuumOutbox(db: Kysely<object>): Promise<void> {
  await sql`vacuum event_outbox`.execute(db);
}

export async function storePayload(db: Kysely<object>, id: string, body: string): Promise<void> {
  await sql`insert into event_payloads (id, body) values (${id}::uuid, ${body})`.execute(db);
}

export async function loadPayload(db: Kysely<object>, id: string): Promise<string | undefined> {
  const r = await sql<{ body: string }>`select body from event_payloads where id = ${id}::uuid`.execute(db);
  return r.rows[0]?.body;
}
