import pg from 'pg';
import type { PoolLike } from '../db/index.js';
import type { Transport, TransportHandlers } from './transport.js';

export interface PostgresTransportOptions {
  url: string;
  /** Sends go through the shared pool; one dedicated connection listens. */
  pool: PoolLike;
  channel?: string;
  /** application_name of the listening connection (operators find it in pg_stat_activity). */
  applicationName?: string;
  onError: (err: unknown) => void;
  /** First delay before reconnecting; doubles up to 5 s while the server is unreachable. */
  reconnectMs?: number;
}

/** NOTIFY payloads must stay under 8,000 bytes. */
const MAX_NOTIFY_BYTES = 7900;

/**
 * PostgreSQL LISTEN/NOTIFY: notifications are per database, so every process of one installation
 * (and nothing else) hears them. A dropped listening connection is reconnected and reported as a
 * resync once it listens again.
 */
export function postgresTransport(o: PostgresTransportOptions): Transport {
  const channel = o.channel ?? 'infinity_events';
  const listenerName = o.applicationName ?? 'infinity-events';
  if (!/^[a-z_]{1,50}$/.test(channel)) throw new Error(`bad channel ${channel}`);
  let client: pg.Client | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let delay = o.reconnectMs ?? 100;

  const connect = async (h: TransportHandlers, again: boolean): Promise<void> => {
    // keepAlive: a connection that died without a word (a network partition) is noticed too.
    const c = new pg.Client({ connectionString: o.url, application_name: listenerName, keepAlive: true });
    let dropped = false;
    const drop = (err?: unknown) => {
      if (dropped) return;
      dropped = true;
      if (err) o.onError(err);
      if (client === c) client = undefined;
      void c.end().catch(() => undefined);
      if (closed) return;
      h.disconnected?.();
      reconnect(h);
    };
    c.on('notification', (m) => {
      if (m.channel === channel && !closed) h.message(m.payload ?? '');
    });
    c.on('error', drop);
    c.on('end', () => drop());
    try {
      await c.connect();
      await c.query(`listen ${channel}`);
    } catch (err) {
      if (!again) {
        // The first connection fails the start: nothing retries behind the caller's back.
        closed = true;
        await c.end().catch(() => undefined);
        throw err;
      }
      drop(err);
      return;
    }
    if (closed) {
      await c.end().catch(() => undefined);
      return;
    }
    client = c;
    delay = o.reconnectMs ?? 100;
    // Listening again: whatever was sent meanwhile is lost to this process; the spine catches up.
    if (again) h.resync();
  };

  const reconnect = (h: TransportHandlers) => {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) void connect(h, true);
    }, delay);
    timer.unref();
    delay = Math.min(delay * 2, 5000);
  };

  return {
    kind: 'postgres',
    listenerName,
    maxMessageBytes: MAX_NOTIFY_BYTES,
    start: (h) => connect(h, false),
    send: async (message) => {
      await o.pool.query('select pg_notify($1, $2)', [channel, message]);
    },
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
