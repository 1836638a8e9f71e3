import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/index.js';
import { testBackends } from '../testing/backends.js';
import { openTestDatabase } from '../testing/harness.js';
import { postgresTransport } from './postgres-transport.js';
import { redisTransport } from './redis-transport.js';
import { Inbox, killRedisClients, signal, terminateBackends, testRedisUrl, uniqueName } from '../testing/events.js';
import { LocalHub, type Transport } from './transport.js';

/**
 * The contract every transport of the event spine keeps (in-process, PostgreSQL LISTEN/NOTIFY,
 * Redis pub/sub): broadcast to every endpoint (the sender's own included), in order per sender,
 * messages up to maxMessageBytes whole, and after a dropped connection a resync once it listens
 * again — then messages flow as before.
 */
interface Endpoint {
  transport: Transport;
  inbox: Inbox<string>;
  resynced: ReturnType<typeof signal>;
  disconnected: ReturnType<typeof signal>;
}

interface Lane {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** Two endpoints of one installation, and a way to drop the second's connection. */
  endpoints(): Promise<{ a: Endpoint; b: Endpoint; dropB: () => Promise<void> }>;
}

async function endpoint(transport: Transport): Promise<Endpoint> {
  const e = { transport, inbox: new Inbox<string>(), resynced: signal(), disconnected: signal() };
  await transport.start({ message: e.inbox.push, resync: e.resynced.fire, disconnected: e.disconnected.fire });
  return e;
}

const lanes: Lane[] = [];
{
  const hub = new LocalHub();
  lanes.push({
    name: 'in-process',
    setup: async () => {},
    teardown: async () => {},
    endpoints: async () => ({ a: await endpoint(hub.transport()), b: await endpoint(hub.transport()), dropB: async () => hub.resync() }),
  });
}
if (testBackends().includes('postgres')) {
  let db: Database | undefined;
  let url = '';
  lanes.push({
    name: 'postgres',
    setup: async () => {
      const d = await openTestDatabase('postgres');
      db = d;
      url = d.url!;
    },
    teardown: async () => db?.close(),
    endpoints: async () => {
      const channel = `t_${uniqueName('c').replace(/[^a-z]/g, '')}`.slice(0, 40);
      const nameB = uniqueName('contract-b');
      const make = (name: string) => postgresTransport({ url, pool: db!.pool, channel, applicationName: name, onError: () => {}, reconnectMs: 20 });
      return {
        a: await endpoint(make(uniqueName('contract-a'))),
        b: await endpoint(make(nameB)),
        dropB: async () => {
          expect(await terminateBackends(db!.pool, nameB)).toBe(1);
        },
      };
    },
  });
}
{
  const url = testRedisUrl();
  lanes.push({
    name: 'redis',
    setup: async () => {},
    teardown: async () => {},
    endpoints: async () => {
      const channel = uniqueName('infinity:test:events');
      const nameB = uniqueName('contract-b');
      const make = (name: string) => redisTransport({ url, channel, connectionName: name, onError: () => {} });
      return {
        a: await endpoint(make(uniqueName('contract-a'))),
        b: await endpoint(make(nameB)),
        dropB: async () => {
          expect(await killRedisClients(url, nameB)).toBe(1);
        },
      };
    },
  });
}

for (const lane of lanes) {
  describe(`event transport contract [${lane.name}]`, () => {
    const open: Endpoint[] = [];
    const pair = async () => {
      const p = await lane.endpoints();
      open.push(p.a, p.b);
      return p;
    };
    beforeAll(() => lane.setup());
    afterAll(async () => {
      for (const e of open) await e.transport.close();
      await lane.teardown();
    });

    it('broadcasts to every endpoint, the sender included', async () => {
      const { a, b } = await pair();
      await a.transport.send('hello');
      expect(await b.inbox.wait()).toBe('hello');
      expect(await a.inbox.wait()).toBe('hello');
    });

    it('keeps one sender’s order', async () => {
      const { a, b } = await pair();
      const sent = Array.from({ length: 50 }, (_, i) => `m${i}`);
      for (const m of sent) await a.transport.send(m);
      await b.inbox.wait((m) => m === 'm49');
      expect(b.inbox.items).toEqual(sent);
    });

    it('carries a message of its largest size whole (multi-byte text included)', async () => {
      const { a, b } = await pair();
      const max = Math.min(a.transport.maxMessageBytes, 1024 * 1024);
      expect(max).toBeGreaterThanOrEqual(7000);
      const unit = 'é€x';
      const text = unit.repeat(Math.floor(max / Buffer.byteLength(unit)));
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(max);
      await a.transport.send(text);
      expect(await b.inbox.wait((m) => m.length > 100)).toBe(text);
    });

    it('reports a resync after its connection dropped, then delivers again', async () => {
      const { a, b, dropB } = await pair();
      await dropB();
      await b.disconnected.fired;
      await b.resynced.fired;
      expect(a.resynced.count()).toBe(lane.name === 'in-process' ? 1 : 0);
      await a.transport.send('after');
      expect(await b.inbox.wait((m) => m === 'after')).toBe('after');
    });

    it('delivers nothing to a closed endpoint', async () => {
      const { a, b } = await pair();
      await b.transport.close();
      await a.transport.send('to a closed one');
      await a.inbox.wait((m) => m === 'to a closed one');
      // A later message through the same path has arrived at A: B would have had the first by now.
      await a.transport.send('marker');
      await a.inbox.wait((m) => m === 'marker');
      expect(b.inbox.items).not.toContain('to a closed one');
    });
  });
}
