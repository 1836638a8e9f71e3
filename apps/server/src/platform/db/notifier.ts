import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { PoolLike } from './pglite-pool.js';

/**
 * Wake-ups between processes: "work was queued", "execution X finished", "cancel X". On
 * PostgreSQL through LISTEN/NOTIFY (one dedicated connection listens); the embedded database
 * serves one process, so an in-process emitter does. Messages are hints: every receiver still
 * reads the truth from the database, and pollers cover a lost notification.
 */
export interface Notifier {
  /** Opens the listening connection (PostgreSQL; from `built.start()`): until then, subscribers hear nothing from other processes. */
  listen(): Promise<void>;
  publish(channel: string, payload: string): Promise<void>;
  subscribe(channel: string, fn: (payload: string) => void): () => void;
  close(): Promise<void>;
}

export function localNotifier(): Notifier {
  const em = new EventEmitter();
  em.setMaxListeners(0);
  return {
    listen: () => Promise.resolve(),
    publish: async (channel, payload) => {
      queueMicrotask(() => em.emit(channel, payload));
      return Promise.resolve();
    },
    subscribe: (channel, fn) => {
      em.on(channel, fn);
      return () => em.off(channel, fn);
    },
    close: async () => {
      em.removeAllListeners();
      return Promise.resolve();
    },
  };
}

const CHANNEL_RE = /^[a-z_]{1,50}$/;

export async function postgresNotifier(url: string, pool: PoolLike, onError: (err: unknown) => void): Promise<Notifier> {
  const em = new EventEmitter();
  em.setMaxListeners(0);
  const listening = new Set<string>();
  let client: pg.Client | null = null;
  let closed = false;
  // NB: one query at a time on the listening client (pg deprecates overlapping queries on a client).
  let chain: Promise<unknown> = Promise.resolve();
  const listen = (c: pg.Client, ch: string) => (chain = chain.then(() => c.query(`listen ${ch}`)).catch(onError));
  const connect = async () => {
    const c = new pg.Client({ connectionString: url, application_name: 'infinity-listen' });
    c.on('notification', (m) => em.emit(m.channel, m.payload ?? ''));
    c.on('error', (err) => {
      onError(err);
      client = null;
      // Reconnect and listen again; pollers cover what was missed meanwhile.
      if (!closed) setTimeout(() => void connect().catch(onError), 1000).unref();
    });
    await c.connect();
    for (const ch of listening) await listen(c, ch);
    client = c;
  };
  return {
    listen: async () => {
      if (!client && !closed) await connect();
    },
    publish: async (channel, payload) => {
      if (!CHANNEL_RE.test(channel)) throw new Error(`bad channel ${channel}`);
      await pool.query('select pg_notify($1, $2)', [channel, payload]);
    },
    subscribe: (channel, fn) => {
      if (!CHANNEL_RE.test(channel)) throw new Error(`bad channel ${channel}`);
      if (!listening.has(channel)) {
        listening.add(channel);
        if (client) void listen(client, channel);
      }
      em.on(channel, fn);
      return () => em.off(channel, fn);
    },
    close: async () => {
      closed = true;
      em.removeAllListeners();
      await client?.end().catch(() => undefined);
    },
  };
}
