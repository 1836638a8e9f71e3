import { randomUUID } from 'node:crypto';
import { EVENT_TYPES, type DomainEvent as TypedEvent, type DomainEventType, type NewEvent } from '@infinity/contracts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Database, inTransaction, openDatabase } from '../db/index.js';
import { testBackends } from '../testing/backends.js';
import { openTestDatabase } from '../testing/harness.js';
import { postgresTransport } from './postgres-transport.js';
import { redisTransport } from './redis-transport.js';
import { EventSpine, type SpineOptions, onInterest } from './spine.js';
import { Inbox, killRedisClients, signal, terminateBackends, testRedisUrl, uniqueName } from '../testing/events.js';
import { LocalHub, type Transport } from './transport.js';

/** One event of every type in the catalogue (the switch is exhaustive: a new type must be added here). */
function sample(type: DomainEventType, orgId: string, extra: Record<string, unknown> = {}): NewEvent {
  const exec = { executionId: randomUUID(), flowId: randomUUID() };
  const base = { orgId, ...extra };
  switch (type) {
    case 'record.created':
      return { ...base, type, permission: 'records:read', model: 'orders', recordId: 'r1', after: { id: 'r1', total: 5 } };
    case 'record.updated':
      return {
        ...base,
        type,
        permission: 'records:read',
        model: 'orders',
        recordId: 'r1',
        before: { id: 'r1' },
        after: { id: 'r1', total: 6 },
        changed: ['total'],
      };
    case 'record.deleted':
      return { ...base, type, permission: 'records:read', model: 'orders', recordId: 'r1', before: { id: 'r1' } };
    case 'execution.queued':
      return { ...base, type, permission: 'executions:read', ...exec, trigger: 'manual' };
    case 'execution.node.started':
      return { ...base, type, permission: 'executions:read', ...exec, nodeId: 'n1', nodeType: 'set' };
    case 'execution.node.finished':
      return { ...base, type, permission: 'executions:read', ...exec, nodeId: 'n1', nodeType: 'set', status: 'succeeded', durationMs: 3 };
    case 'execution.succeeded':
      return { ...base, type, permission: 'executions:read', ...exec, durationMs: 9 };
    case 'execution.failed':
      return { ...base, type, permission: 'executions:read', ...exec, durationMs: 9, error: { code: 'X', message: 'x' } };
    case 'flow.saved':
      return { ...base, type, permission: 'flows:read', flowId: randomUUID(), version: 2, change: 'updated' };
    case 'model.changed':
      return { ...base, type, permission: 'models:read', model: 'orders', change: 'updated' };
    case 'member.changed':
      return { ...base, type, permission: 'members:read', userId: randomUUID(), role: 'viewer' };
    case 'key.revoked':
      return { ...base, type, permission: 'org:read', keyId: randomUUID(), keyHash: 'ab'.repeat(32) };
    case 'usage.alert':
      return { ...base, type, permission: 'usage:read', notificationId: randomUUID(), metric: 'records', percent: 80, used: 8, limit: 10 };
    case 'notification.created':
      return { ...base, type, permission: 'notifications:read', notificationId: randomUUID(), kind: 'usage', title: 'Usage' };
    case 'agent.status':
      return { ...base, type, permission: 'agents:read', agentId: randomUUID(), status: 'thinking', conversationId: randomUUID() };
    case 'agent.step':
      return { ...base, type, permission: 'agents:read', agentId: randomUUID(), conversationId: randomUUID(), step: { kind: 'text', text: 'hi' } };
    case 'flow.presence':
      return { ...base, type, permission: 'flows:read', flowId: randomUUID(), userId: randomUUID(), name: 'Ada', connectionId: 'c1', state: 'open' };
    case 'webhook.changed':
      return { ...base, type, permission: 'webhooks:manage', webhookId: randomUUID(), change: 'created' };
  }
}
const ALL_TYPES = Object.keys(EVENT_TYPES) as DomainEventType[];

interface Lane {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** The database (for assertions). */
  db(): Database;
  /** One more process: a database handle and a transport to the others, its listener named `name`. */
  process(name: string): { db: Database; transport: Transport };
  /** Drops the listening connection named `name`. */
  drop(name: string): Promise<void>;
}

const lanes: Lane[] = [];
if (testBackends().includes('pglite')) {
  let db: Database | undefined;
  let hub = new LocalHub();
  lanes.push({
    name: 'pglite, in-process',
    setup: async () => {
      db = await openTestDatabase('pglite');
      hub = new LocalHub();
    },
    teardown: async () => db?.close(),
    db: () => db!,
    process: () => ({ db: db!, transport: hub.transport() }),
    drop: async () => hub.resync(),
  });
}
if (testBackends().includes('postgres')) {
  for (const via of ['listen/notify', 'redis'] as const) {
    let first: (Database & { url?: string }) | undefined;
    const dbs: Database[] = [];
    let redisChannel = '';
    let made = 0;
    const named = (name: string) => {
      // Processes alternate between two pools on the same database.
      const db = dbs[made++ % 2]!;
      const transport =
        via === 'redis'
          ? redisTransport({ url: testRedisUrl(), channel: redisChannel, connectionName: name, onError: () => {} })
          : postgresTransport({ url: first!.url!, pool: db.pool, applicationName: name, onError: () => {}, reconnectMs: 20 });
      return { db, transport };
    };
    lanes.push({
      name: `postgres, ${via}`,
      setup: async () => {
        first = await openTestDatabase('postgres');
        dbs.push(first, await openDatabase({ postgresUrl: first.url!, poolSize: 5 }));
        redisChannel = uniqueName('infinity:test:spine');
      },
      teardown: async () => {
        for (const d of dbs) await d.close();
      },
      db: () => first!,
      process: named,
      drop: async (name) => {
        if (via === 'redis') expect(await killRedisClients(testRedisUrl(), name)).toBe(1);
        else expect(await terminateBackends(first!.pool, name)).toBe(1);
      },
    });
  }
}

const quiet: SpineOptions = { pollMs: 3_600_000, backoffMs: () => 0 };

for (const lane of lanes) {
  describe(`event spine [${lane.name}]`, () => {
    const started: EventSpine[] = [];
    /** A spine playing one process. */
    const spine = async (opts: SpineOptions = {}, name = uniqueName('spine')): Promise<EventSpine> => {
      const p = lane.process(name);
      const s = new EventSpine({ ...quiet, db: p.db.kysely, transport: p.transport, ...opts });
      await s.start();
      started.push(s);
      return s;
    };
    const dbOf = () => lane.db();
    const emitIn = async (s: EventSpine, events: NewEvent[], rollback = false) => {
      const out: TypedEvent[] = [];
      await inTransaction(dbOf().kysely, async (uow) => {
        for (const e of events) out.push(s.emit(uow, e));
        if (rollback) throw new Error('rolled back on purpose');
      }).catch((err: unknown) => {
        if (!rollback) throw err;
      });
      return out;
    };
    const rowsOf = async (ids: string[]) =>
      (await dbOf().pool.query<{ n: number }>('select count(*)::int as n from event_outbox where event_id = any($1::uuid[])', [ids])).rows[0]!.n;

    beforeAll(() => lane.setup());
    afterEach(async () => {
      for (const s of started.splice(0)) await s.stop();
    });
    afterAll(() => lane.teardown());

    it('delivers every event type once after commit, never after rollback, in this process and in the other', async () => {
      const a = await spine();
      const b = await spine();
      const orgId = randomUUID();
      const onA = new Inbox<TypedEvent>();
      const onB = new Inbox<TypedEvent>();
      for (const type of ALL_TYPES) {
        a.subscribe(type, onA.push);
        b.subscribe(type, onB.push);
      }
      // Types other than the cache-invalidating ones cross only once the other process's interest is known.
      for (const type of ALL_TYPES) if (onInterest(type)) await a.remoteInterestIn(type);
      await emitIn(
        a,
        ALL_TYPES.map((t) => sample(t, orgId, { rolledBack: true })),
        true,
      );
      const committed = await emitIn(
        a,
        ALL_TYPES.map((t) => sample(t, orgId)),
      );
      // A marker sent after everything else: per-sender order means nothing else is still on its way.
      const [marker] = await emitIn(a, [sample('flow.saved', orgId, { marker: true })]);
      await onB.wait((e) => e.id === marker!.id);
      for (const inbox of [onA, onB]) {
        expect(inbox.items.filter((e) => 'rolledBack' in e)).toEqual([]);
        expect(inbox.items.filter((e) => !('marker' in e)).map((e) => e.id)).toEqual(committed.map((e) => e.id));
      }
      expect(onB.items.find((e) => e.type === 'record.updated')).toEqual(committed.find((e) => e.type === 'record.updated'));
    });

    it('hands a committed durable event once to each consumer that wants it, and writes no row when none does', async () => {
      const names = { all: uniqueName('all'), onlyX: uniqueName('only-x') };
      const handled = new Inbox<{ consumer: string; event: TypedEvent }>();
      const consumers = (s: EventSpine) => {
        s.consume({ name: names.all, types: ['record.created'], handle: async (event) => handled.push({ consumer: names.all, event }) });
        s.consume({
          name: names.onlyX,
          types: ['record.created'],
          wants: (e) => e.type === 'record.created' && e.model === 'x',
          handle: async (event) => handled.push({ consumer: names.onlyX, event }),
        });
      };
      // The writer does not drain (its rows wait in the table); the other process drains.
      const a = await spine({ drain: false });
      consumers(a);
      const orgId = randomUUID();
      const created = (model: string) => ({ ...sample('record.created', orgId), model }) as NewEvent;
      const rolledBack = await emitIn(a, [created('x')], true);
      const [y, x] = await emitIn(a, [created('y'), created('x')]);
      const [unwanted] = await emitIn(a, [sample('flow.saved', orgId)]);
      expect(await rowsOf([y!.id, x!.id])).toBe(2);
      expect(await rowsOf([unwanted!.id, rolledBack[0]!.id])).toBe(0);

      const b = await spine();
      consumers(b);
      await handled.wait((h) => h.consumer === names.onlyX && h.event.id === x!.id);
      await handled.wait((h) => h.consumer === names.all && h.event.id === x!.id);
      await b.settled();
      expect(handled.items.map((h) => `${h.consumer}:${h.event.id}`).sort()).toEqual(
        [`${names.all}:${y!.id}`, `${names.all}:${x!.id}`, `${names.onlyX}:${x!.id}`].sort(),
      );
      expect(handled.items.find((h) => h.event.id === x!.id)!.event).toEqual(x);
      expect(await rowsOf([y!.id, x!.id])).toBe(0);
    });

    it('writes no outbox row for an ephemeral event, even with a consumer of its type', async () => {
      const a = await spine({ drain: false });
      a.consume({ name: uniqueName('nodes'), types: ['execution.node.started'], handle: async () => {} });
      const [e] = await emitIn(a, [sample('execution.node.started', randomUUID())]);
      expect(await rowsOf([e!.id])).toBe(0);
    });

    it('retries a failing consumer without replaying the others, then parks what keeps failing (logged)', async () => {
      const parked = signal();
      const logged: unknown[] = [];
      const logger = {
        warn: () => {},
        error: (o: unknown) => {
          logged.push(o);
          parked.fire();
        },
      };
      const a = await spine({ maxAttempts: 3, logger: logger });
      const calls = { steady: 0, flaky: 0, broken: 0 };
      const flakyDone = signal();
      a.consume({ name: uniqueName('steady'), types: ['usage.alert'], handle: async () => void calls.steady++ });
      a.consume({
        name: uniqueName('flaky'),
        types: ['usage.alert'],
        handle: async () => {
          if (++calls.flaky < 3) throw new Error('not yet');
          flakyDone.fire();
        },
      });
      const brokenName = uniqueName('broken');
      a.consume({
        name: brokenName,
        types: ['usage.alert'],
        handle: async () => {
          calls.broken++;
          throw new Error('always');
        },
      });
      const [e] = await emitIn(a, [sample('usage.alert', randomUUID())]);
      await flakyDone.fired;
      await parked.fired;
      await a.settled();
      expect(calls).toEqual({ steady: 1, flaky: 3, broken: 3 });
      const row = (await dbOf().pool.query('select consumers, attempts, parked_at, last_error from event_outbox where event_id = $1', [e!.id])).rows[0]!;
      expect(row).toMatchObject({ consumers: [brokenName], attempts: 3, last_error: `${brokenName}: always` });
      expect(row.parked_at).not.toBeNull();
      expect(JSON.stringify(logged)).toContain(e!.id);
    });

    it('answers a probe without an organization by what the consumers of its type could want (wantsType)', async () => {
      const a = await spine();
      const probe = sample('usage.alert', randomUUID());
      const any = { ...probe, orgId: '' };
      let open = false;
      a.consume({ name: uniqueName('picky'), types: ['usage.alert'], wants: () => open, wantsType: () => open, handle: async () => {} });
      expect(a.wantsOutbox(any)).toBe(false);
      open = true;
      expect(a.wantsOutbox(any)).toBe(true);
    });

    it('hands a batch consumer the events of one claim in one call, in order, and retries the whole call when it fails', async () => {
      const a = await spine();
      const calls: string[][] = [];
      const done = signal();
      a.consume({
        name: uniqueName('batch'),
        types: ['usage.alert'],
        handle: async () => {
          throw new Error('handleBatch is used instead');
        },
        handleBatch: async (events) => {
          calls.push(events.map((e) => e.id));
          if (calls.length === 1) throw new Error('first call fails');
          done.fire();
        },
      });
      const events = await emitIn(a, [sample('usage.alert', randomUUID()), sample('usage.alert', randomUUID()), sample('usage.alert', randomUUID())]);
      await done.fired;
      await a.settled();
      const ids = events.map((e) => e.id);
      expect(calls).toEqual([ids, ids]);
      expect(await rowsOf(ids)).toBe(0);
    });

    it('vacuums the outbox every so many drained rows (the embedded database has no autovacuum), and drains on', async () => {
      const warned: unknown[] = [];
      const a = await spine({ outboxVacuumEvery: 2, logger: { warn: (o: unknown) => warned.push(o), error: (o: unknown) => warned.push(o) } });
      const got = new Inbox<TypedEvent>();
      a.consume({ name: uniqueName('vacuumed'), types: ['usage.alert'], handle: async (e) => got.push(e) });
      const vacuums = async () =>
        (await dbOf().pool.query<{ n: number }>("select coalesce(sum(vacuum_count), 0)::int as n from pg_stat_user_tables where relname = 'event_outbox'"))
          .rows[0]!.n;
      const before = await vacuums();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const [e] = await emitIn(a, [sample('usage.alert', randomUUID())]);
        await got.wait((x) => x.id === e!.id);
        ids.push(e!.id);
      }
      await a.settled();
      expect(await rowsOf(ids)).toBe(0);
      expect(warned).toEqual([]);
      expect(await vacuums()).toBeGreaterThan(before);
    });

    it('a crash between commit and drain loses nothing: another spine on the same database delivers on start', async () => {
      const name = uniqueName('audit');
      const a = await spine({ drain: false });
      a.consume({ name, types: ['member.changed'], handle: async () => {} });
      const [e] = await emitIn(a, [sample('member.changed', randomUUID())]);
      await a.stop(); // the writer is gone before anyone drained
      const got = new Inbox<TypedEvent>();
      const c = new EventSpine({ ...quiet, db: dbOf().kysely });
      c.consume({ name, types: ['member.changed'], handle: async (ev) => got.push(ev) });
      await c.start();
      started.push(c);
      expect(await got.wait()).toEqual(e);
    });

    it('carries an event over 8,000 bytes whole to the other process', async () => {
      const a = await spine();
      const b = await spine();
      const got = new Inbox<TypedEvent>();
      b.subscribe('record.created', got.push);
      await a.remoteInterestIn('record.created');
      const big = { ...sample('record.created', randomUUID()), after: { id: 'r1', text: 'ü'.repeat(12_000) } } as NewEvent;
      const [e] = await emitIn(a, [big]);
      expect(Buffer.byteLength(JSON.stringify(e))).toBeGreaterThan(8000);
      expect(await got.wait((x) => x.id === e!.id)).toEqual(e);
      if (lane.name === 'postgres, listen/notify') {
        const refs = await dbOf().pool.query<{ n: number }>('select count(*)::int as n from event_payloads');
        expect(refs.rows[0]!.n).toBeGreaterThan(0);
      }
    });

    it('a { local: true } listener hears only its own process', async () => {
      const a = await spine();
      const b = await spine();
      const all = new Inbox<TypedEvent>();
      const own = new Inbox<TypedEvent>();
      b.subscribe('flow.saved', all.push);
      b.subscribe('flow.saved', own.push, { local: true });
      const [fromA] = await emitIn(a, [sample('flow.saved', randomUUID())]);
      const [fromB] = await emitIn(b, [sample('flow.saved', randomUUID())]);
      await all.wait((e) => e.id === fromA!.id);
      expect(all.items.map((e) => e.id).sort()).toEqual([fromA!.id, fromB!.id].sort());
      expect(own.items.map((e) => e.id)).toEqual([fromB!.id]);
    });

    it('sends ephemeral events to other processes only while one of them listens', async () => {
      const a = await spine();
      const b = await spine();
      expect(a.hasSubscribers('execution.node.finished')).toBe(false);
      const got = new Inbox<TypedEvent>();
      b.subscribe('execution.node.finished', got.push);
      await a.remoteInterestIn('execution.node.finished');
      expect(a.hasSubscribers('execution.node.finished')).toBe(true);
      const e = EventSpine.stamp(sample('execution.node.finished', randomUUID()) as NewEvent<'execution.node.finished'>);
      a.publish(e);
      expect(await got.wait()).toEqual(e);
    });

    it('after its listening connection drops, a process flushes its caches and rescans the outbox: a change made meanwhile still arrives', async () => {
      const listener = uniqueName('listener');
      const consumer = uniqueName('cache');
      const a = await spine({ drain: false });
      a.consume({ name: consumer, types: ['key.revoked'], handle: async () => {} });
      const b = await spine({}, listener);
      const resynced = signal();
      b.onResync(resynced.fire);
      const got = new Inbox<TypedEvent>();
      b.consume({ name: consumer, types: ['key.revoked'], handle: async (ev) => got.push(ev) });
      await b.settled();
      await lane.drop(listener);
      const [e] = await emitIn(a, [sample('key.revoked', randomUUID())]);
      await resynced.fired;
      expect(await got.wait((x) => x.id === e!.id)).toEqual(e);
    });
  });
}
