import { Redis } from 'ioredis';

/**
 * The optional Redis connection (REDIS_URL): shared rate-limit counts across instances. Commands
 * fail fast while it is unreachable (callers fall back or pass) instead of queueing forever.
 * NB: it connects on `connect()` (the app's start) or its first command, not when created.
 */
export function openRedis(url: string, onError: (err: unknown) => void): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000, enableOfflineQueue: true, lazyConnect: true });
  redis.on('error', onError);
  return redis;
}
