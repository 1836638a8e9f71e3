import { Redis } from 'ioredis';
import type { Transport, TransportHandlers } from './transport.js';

export interface RedisTransportOptions {
  url: string;
  /** One channel per installation (processes of another installation on the same Redis never hear it). */
  channel: string;
  /** CLIENT SETNAME of the subscribing connection (operators find it in CLIENT LIST). */
  connectionName?: string;
  onError: (err: unknown) => void;
}

/**
 * Redis pub/sub (REDIS_URL): one connection publishes, one subscribes. ioredis reconnects by
 * itself; the subscription is renewed here and only then reported as a resync, so nothing sent
 * after the resync is missed.
 */
export function redisTransport(o: RedisTransportOptions): Transport {
  const opts = { maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: (n: number) => Math.min(100 * 2 ** n, 5000) };
  let pub: Redis | undefined;
  let sub: Redis | undefined;
  let closed = false;
  return {
    kind: 'redis',
    ...(o.connectionName ? { listenerName: o.connectionName } : {}),
    // Redis takes messages up to 512 MB; a bound keeps one message from stalling the others.
    maxMessageBytes: 32 * 1024 * 1024,
    start: async (h: TransportHandlers) => {
      pub = new Redis(o.url, { ...opts, lazyConnect: true });
      sub = new Redis(o.url, { ...opts, lazyConnect: true, autoResubscribe: false, ...(o.connectionName ? { connectionName: o.connectionName } : {}) });
      pub.on('error', o.onError);
      sub.on('error', o.onError);
      const s = sub;
      s.on('message', (ch: string, message: string) => {
        if (ch === o.channel && !closed) h.message(message);
      });
      let started = false;
      let up = false;
      s.on('close', () => {
        if (!up || closed) return;
        up = false;
        h.disconnected?.();
      });
      s.on('ready', () => {
        if (!started || up || closed) return;
        // A reconnect: listen again first, then report the gap.
        void s
          .subscribe(o.channel)
          .then(() => {
            up = true;
            h.resync();
          })
          .catch(o.onError);
      });
      await pub.connect();
      await s.connect();
      await s.subscribe(o.channel);
      started = up = true;
    },
    send: async (message) => {
      if (!pub) throw new Error('the Redis transport is not started');
      await pub.publish(o.channel, message);
    },
    close: async () => {
      closed = true;
      sub?.disconnect();
      pub?.disconnect();
      return Promise.resolve();
    },
  };
}
