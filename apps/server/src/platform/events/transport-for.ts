import { randomBytes } from 'node:crypto';
import type { PoolLike } from '../db/index.js';
import { postgresTransport } from './postgres-transport.js';
import { redisTransport } from './redis-transport.js';
import { type Transport, localTransport } from './transport.js';

/**
 * The transport an installation's processes share: in-process on the embedded database (one
 * process), Redis pub/sub when REDIS_URL is set, PostgreSQL LISTEN/NOTIFY otherwise.
 */
export async function transportFor(o: {
  database: { kind: 'pglite' } | { kind: 'postgres'; url: string };
  redisUrl: string | undefined;
  pool: PoolLike;
  onError: (err: unknown) => void;
}): Promise<Transport> {
  if (o.database.kind === 'pglite') return localTransport();
  // The listening connection, as operators find it (pg_stat_activity.application_name, Redis CLIENT LIST): one per process.
  const name = `infinity-events-${randomBytes(3).toString('hex')}`;
  if (o.redisUrl) {
    // One channel per database: installations sharing a Redis never hear each other.
    const db = (await o.pool.query<{ name: string }>('select current_database() as name')).rows[0]!.name;
    return redisTransport({ url: o.redisUrl, channel: `infinity:events:${db}`, connectionName: name, onError: o.onError });
  }
  return postgresTransport({ url: o.database.url, pool: o.pool, applicationName: name, onError: o.onError });
}
