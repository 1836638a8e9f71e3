import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { PoolLike } from '../db/index.js';

/** Helpers for the event spine's suites: waiting for messages and events, dropping listening connections. */

/** A value that arrives later: `wait(pred)` resolves with the first item matching it, seen before or after the call. */
export class Inbox<T> {
  readonly items: T[] = [];
  private readonly waiters = new Set<{ pred: (t: T) => boolean; resolve: (t: T) => void }>();

  push = (item: T): void => {
    this.items.push(item);
    for (const w of this.waiters)
      if (w.pred(item)) {
        this.waiters.delete(w);
        w.resolve(item);
      }
  };

  async wait(pred: (t: T) => boolean = () => true): Promise<T> {
    const seen = this.items.find(pred);
    if (seen !== undefined) return seen;
    return new Promise<T>((resolve) => this.waiters.add({ pred, resolve }));
  }
}

/** A one-shot signal: `fire()` resolves `fired`. */
export function signal(): { fire: () => void; fired: Promise<void>; count: () => number } {
  let n = 0;
  let resolve!: () => void;
  const fired = new Promise<void>((r) => (resolve = r));
  return {
    fire: () => {
      n++;
      resolve();
    },
    fired,
    count: () => n,
  };
}

export const testRedisUrl = (): string => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export const uniqueName = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

/** Ends the PostgreSQL backends of connections named `name` (as an operator or a failover would); returns how many. */
export async function terminateBackends(pool: PoolLike, name: string): Promise<number> {
  const r = await pool.query<{ ok: boolean }>('select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = $1', [name]);
  return r.rows.filter((x) => x.ok).length;
}

/** Kills the Redis connections named `name` (CLIENT SETNAME); returns how many. */
export async function killRedisClients(url: string, name: string): Promise<number> {
  const admin = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const list = (await admin.client('LIST')) as string;
    const ids = list
      .split('\n')
      .filter((line) => line.includes(` name=${name} `))
      .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => Boolean(id));
    for (const id of ids) await admin.client('KILL', 'ID', id);
    return ids.length;
  } finally {
    admin.disconnect();
  }
}
