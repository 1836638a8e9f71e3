import { type Kysely, sql } from 'kysely';

/** Expired keys are swept at most this often per process (one indexed delete). */
const SWEEP_EVERY_MS = 60_000;
const lastSweep = new WeakMap<object, number>();

/**
 * Remembers webhook replay keys (webhook-auth.ts) in the database, so every process sees them:
 * true when all the keys are new (now remembered until `expiresAt`), false when one was seen
 * already (a replay). The insert is the check: two copies of a request racing each other in two
 * processes cannot both pass.
 */
export async function rememberReplayKeys<DB>(db: Kysely<DB>, secretId: string, keys: string[], expiresAt: Date): Promise<boolean> {
  const now = Date.now();
  if (now - (lastSweep.get(db) ?? 0) > SWEEP_EVERY_MS) {
    lastSweep.set(db, now);
    await sql`delete from webhook_replays where expires_at < now()`.execute(db);
  }
  let fresh = true;
  for (const key of keys) {
    // An expired row for the same key (not swept yet) is taken over: it is no longer a replay.
    const r = await sql<{ key: string }>`
      insert into webhook_replays (secret_id, key, expires_at) values (${secretId}, ${key}, ${expiresAt})
      on conflict (secret_id, key) do update set expires_at = excluded.expires_at where webhook_replays.expires_at < now()
      returning key`.execute(db);
    if (r.rows.length === 0) fresh = false;
  }
  return fresh;
}
