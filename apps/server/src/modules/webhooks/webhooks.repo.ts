import { type Kysely, type Transaction, sql } from 'kysely';
import type { DeliveryStatus, WebhookDeliveriesTable, WebhookTables, WebhooksTable } from './webhooks.tables.js';

export type { DeliveryStatus };

/** Outbound webhooks' SQL: subscriptions, deliveries (a queue claimed with SKIP LOCKED) and attempts. */

type Exec = Kysely<WebhookTables> | Transaction<WebhookTables>;

const hookColumns = [
  'id',
  'org_id',
  'url',
  'events',
  'model',
  'filter',
  'description',
  'enabled',
  'disabled_reason',
  'creator_kind',
  'creator_user_id',
  'creator_key_id',
  'version',
  'last_success_at',
  'created_at',
  'updated_at',
] as const;

export type WebhookRow = Pick<WebhooksTable, (typeof hookColumns)[number]> & {
  version: number;
  created_at: Date;
  updated_at: Date;
  filter: Record<string, unknown> | null;
};
export type WebhookWithSecret = WebhookRow & { secret_ciphertext: Buffer; secret_key_version: number };

export async function insertWebhook(
  db: Exec,
  row: Omit<WebhooksTable, 'version' | 'created_at' | 'updated_at' | 'filter' | 'last_success_at' | 'disabled_reason'> & { filter: string | null },
): Promise<WebhookRow> {
  return (await db.insertInto('webhooks').values(row).returning(hookColumns).executeTakeFirstOrThrow()) as WebhookRow;
}

export async function findWebhook(db: Exec, orgId: string, id: string): Promise<WebhookRow | undefined> {
  return (await db.selectFrom('webhooks').select(hookColumns).where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst()) as WebhookRow | undefined;
}

/** A subscription with its sealed secret, whatever its organization (the sender and the index). */
export async function webhookWithSecret(db: Exec, id: string): Promise<WebhookWithSecret | undefined> {
  return (await db
    .selectFrom('webhooks')
    .select([...hookColumns, 'secret_ciphertext', 'secret_key_version'])
    .where('id', '=', id)
    .executeTakeFirst()) as WebhookWithSecret | undefined;
}

export async function webhooksWithSecret(db: Exec, ids: string[]): Promise<WebhookWithSecret[]> {
  if (!ids.length) return [];
  return (await db
    .selectFrom('webhooks')
    .select([...hookColumns, 'secret_ciphertext', 'secret_key_version'])
    .where('id', 'in', ids)
    .execute()) as WebhookWithSecret[];
}

export async function listWebhooks(db: Exec, orgId: string, limit: number, offset: number): Promise<WebhookRow[]> {
  return (await db
    .selectFrom('webhooks')
    .select(hookColumns)
    .where('org_id', '=', orgId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .offset(offset)
    .execute()) as WebhookRow[];
}

export async function countWebhooks(db: Exec, orgId: string): Promise<number> {
  const r = await db
    .selectFrom('webhooks')
    .select(sql<string>`count(*)`.as('n'))
    .where('org_id', '=', orgId)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** Every enabled subscription (the in-memory index of every process). */
export async function enabledWebhooks(db: Exec): Promise<WebhookRow[]> {
  return (await db.selectFrom('webhooks').select(hookColumns).where('enabled', '=', true).execute()) as WebhookRow[];
}

export type WebhookPatch = Partial<
  Pick<WebhooksTable, 'url' | 'events' | 'model' | 'description' | 'enabled' | 'disabled_reason' | 'creator_kind' | 'creator_user_id' | 'creator_key_id'>
> & { filter?: string | null };

/** Applies a change and moves the version on (the indexes of other processes order changes by it). */
export async function updateWebhook(db: Exec, orgId: string, id: string, patch: WebhookPatch): Promise<WebhookRow | undefined> {
  return (await db
    .updateTable('webhooks')
    .set({ ...patch, version: sql`version + 1`, updated_at: new Date() })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .returning(hookColumns)
    .executeTakeFirst()) as WebhookRow | undefined;
}

/** Disables an enabled subscription; undefined when it was disabled (or deleted) already. */
export async function disableWebhook(db: Exec, id: string, reason: string): Promise<WebhookRow | undefined> {
  return (await db
    .updateTable('webhooks')
    .set({ enabled: false, disabled_reason: reason.slice(0, 500), version: sql`version + 1`, updated_at: new Date() })
    .where('id', '=', id)
    .where('enabled', '=', true)
    .returning(hookColumns)
    .executeTakeFirst()) as WebhookRow | undefined;
}

export async function deleteWebhook(db: Exec, orgId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('webhooks').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function noteSuccess(db: Exec, ids: string[], at: Date): Promise<void> {
  if (ids.length) await db.updateTable('webhooks').set({ last_success_at: at }).where('id', 'in', ids).execute();
}

/** A delivery as written; `created_at` from the sender's clock, like every time the retry schedule compares. */
export type NewDelivery = Omit<WebhookDeliveriesTable, 'attempts' | 'last_status_code' | 'last_error' | 'updated_at' | 'created_at'> & { created_at: Date };

/** Idempotent on the derived id: a redelivered event inserts nothing. */
export async function insertDeliveries(db: Exec, rows: NewDelivery[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000)
    await db
      .insertInto('webhook_deliveries')
      .values(rows.slice(i, i + 1000))
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
}

export interface ClaimedDelivery {
  id: string;
  webhook_id: string;
  org_id: string;
  event_type: string;
  body: string;
  /** This attempt's number (1 for the first). */
  attempts: number;
  created_at: Date;
}

/**
 * Claims up to `limit` due deliveries, leasing them until `leaseUntil` (a process that dies while
 * sending leaves them to be claimed again when the lease lapses). SKIP LOCKED lets every process's
 * sender claim side by side.
 */
export async function claimDue(db: Exec, at: { now: Date; leaseUntil: Date }, limit: number): Promise<ClaimedDelivery[]> {
  const r = await sql<ClaimedDelivery>`
    update webhook_deliveries d
       set next_attempt_at = ${at.leaseUntil}, attempts = d.attempts + 1
     where d.id in (
       select id from webhook_deliveries
        where next_attempt_at is not null and next_attempt_at <= ${at.now}
        order by next_attempt_at
        limit ${limit}
        for update skip locked)
    returning d.id, d.webhook_id, d.org_id, d.event_type, d.body, d.attempts, d.created_at`.execute(db);
  return r.rows;
}

export interface AttemptResult {
  deliveryId: string;
  attempt: number;
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  statusCode: number | null;
  durationMs: number;
  excerpt: string | null;
  error: string | null;
  at: Date;
}

/** Records a batch of attempts and moves each delivery on: two statements for the whole batch. */
export async function recordAttempts(db: Exec, results: AttemptResult[]): Promise<void> {
  if (!results.length) return;
  const values = results.map(
    (r) => sql`(${r.deliveryId}::uuid, ${r.status}::text, ${r.nextAttemptAt}::timestamptz, ${r.statusCode}::int, ${r.error?.slice(0, 1000) ?? null}::text)`,
  );
  await sql`
    update webhook_deliveries d
       set status = v.status, next_attempt_at = v.next_at, last_status_code = v.code, last_error = v.err, updated_at = now()
      from (values ${sql.join(values)}) as v (id, status, next_at, code, err)
     where d.id = v.id`.execute(db);
  await db
    .insertInto('webhook_attempts')
    .values(
      results.map((r) => ({
        delivery_id: r.deliveryId,
        attempt: r.attempt,
        status_code: r.statusCode,
        duration_ms: r.durationMs,
        response_excerpt: r.excerpt,
        error: r.error?.slice(0, 1000) ?? null,
        at: r.at,
      })),
    )
    .execute();
}

/** The log keeps finished deliveries (and their attempts) for `days`. */
export async function pruneDeliveries(db: Exec, days: number): Promise<void> {
  await sql`delete from webhook_deliveries where next_attempt_at is null and updated_at < now() - make_interval(days => ${days})`.execute(db);
}

/** Pending deliveries of a subscription that is disabled or gone are skipped (redeliverable later). */
export async function skipPendingOf(db: Exec, webhookId: string, reason: string): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ status: 'skipped', next_attempt_at: null, last_error: reason.slice(0, 1000), updated_at: new Date() })
    .where('webhook_id', '=', webhookId)
    .where('status', '=', 'pending')
    .execute();
}

const deliveryColumns = [
  'id',
  'webhook_id',
  'event_id',
  'event_type',
  'status',
  'attempts',
  'next_attempt_at',
  'last_status_code',
  'last_error',
  'created_at',
  'updated_at',
] as const;

export async function listDeliveries(db: Exec, orgId: string, webhookId: string, f: { limit: number; offset: number; status?: DeliveryStatus | undefined }) {
  let q = db.selectFrom('webhook_deliveries').where('org_id', '=', orgId).where('webhook_id', '=', webhookId);
  if (f.status) q = q.where('status', '=', f.status);
  const [rows, total] = await Promise.all([
    q.select(deliveryColumns).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(f.limit).offset(f.offset).execute(),
    q.select(sql<string>`count(*)`.as('n')).executeTakeFirst(),
  ]);
  return { rows, total: Number(total?.n ?? 0) };
}

export async function findDelivery(db: Exec, orgId: string, webhookId: string, id: string) {
  return db
    .selectFrom('webhook_deliveries')
    .select([...deliveryColumns, 'body', 'org_id'])
    .where('org_id', '=', orgId)
    .where('webhook_id', '=', webhookId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function attemptsOf(db: Exec, deliveryIds: string[]) {
  if (!deliveryIds.length) return [];
  return db
    .selectFrom('webhook_attempts')
    .select(['delivery_id', 'attempt', 'status_code', 'duration_ms', 'response_excerpt', 'error', 'at'])
    .where('delivery_id', 'in', deliveryIds)
    .orderBy('id')
    .execute();
}

/** A delivery sent by hand (redeliver, test): marks it as being sent now and returns its attempt number. */
export async function startManualAttempt(db: Exec, id: string): Promise<number> {
  const r = await db
    .updateTable('webhook_deliveries')
    .set({ attempts: sql`attempts + 1`, next_attempt_at: null, updated_at: new Date() })
    .where('id', '=', id)
    .returning('attempts')
    .executeTakeFirstOrThrow();
  return r.attempts;
}
