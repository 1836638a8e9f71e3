import { randomUUID } from 'node:crypto';
import { EVENT_TYPES, type DomainEventType, type EventOf, type NewEvent, type DomainEvent as TypedEvent } from '@infinity/contracts';
import type { Kysely, QueryExecutorProvider } from 'kysely';
import type { UnitOfWork } from '../db/transaction.js';
import type { Logger } from '../logger.js';
import { OutboxDrainer } from './drainer.js';
import { Fanout } from './fanout.js';
import { CONSUMER_NAME, insertOutbox } from './outbox.js';
import type { Transport } from './transport.js';

/**
 * The event spine (issue #26): typed domain events, published only after the transaction that
 * produced them commits (never after a rollback). See README.md beside this file.
 *
 *   service ── emit(uow, e) ──► outbox row in the same trx (durable type, some consumer wants it)
 *                                   │ commit
 *                                   ▼
 *     subscribe(type) ◄── this process at once; other processes over the transport
 *     consume(name)   ◄── outbox drained with a lease by one process (at least once)
 */

/** An event before the typed catalogue: `{type, orgId, ...}`. @deprecated use the catalogue. */
export interface LegacyEvent {
  type: string;
  orgId: string;
  [key: string]: unknown;
}

/** Every event the spine carries: the typed catalogue (and, while call sites move, legacy ones). */
export type DomainEvent = TypedEvent | LegacyEvent;

type Listener<E> = (event: E) => void | Promise<void>;

export interface ConsumerOptions {
  /** Whether this consumer wants an event at all: an outbox row is written only when some consumer wants it. */
  wants?: (event: TypedEvent) => boolean;
}

export interface Consumer {
  /** Stable name (progress is kept per name): lower case, digits and `_ . : -`. */
  name: string;
  types: readonly DomainEventType[];
  wants?: (event: TypedEvent) => boolean;
  /**
   * For a probe that names no organization (`wantsOutbox` before a write whose events are known
   * only after it): whether this consumer could want some event of this type at all. Default yes.
   */
  wantsType?: (type: DomainEventType) => boolean;
  /** Called at least once per committed event; must be idempotent on `event.id`. */
  handle: (event: TypedEvent) => Promise<void>;
  /**
   * Optional: the outbox drain hands this consumer its events of one claimed batch at once (in
   * order) instead of one `handle` call each — one write for a hundred events. A failure fails
   * (and retries) every event of the call.
   */
  handleBatch?: (events: TypedEvent[]) => Promise<void>;
}

export interface SubscribeOptions {
  /** Only events committed by this process (e.g. metrics counting this process's work). */
  local?: boolean;
}

/** The unit of work `emit` writes into: the transaction and its commit hooks. */
export type SpineUnitOfWork = Pick<UnitOfWork<never>, 'afterCommit' | 'beforeCommit'> & { trx: QueryExecutorProvider };

export interface SpineOptions {
  onError?: (err: unknown, event: DomainEvent) => void;
  logger?: Pick<Logger, 'warn' | 'error'>;
  /** Where the outbox lives. Without it durable consumers are called in this process after commit (tools, unit tests). */
  db?: Kysely<object>;
  /** To the other processes; without it events stay in this process. */
  transport?: Transport;
  /** Whether this process drains the outbox (default true with a db). */
  drain?: boolean;
  /** Outbox poll, ms (rows whose wake-up was lost or whose worker died). Default 5000. */
  pollMs?: number;
  /** Tries before an outbox row is parked. Default 10. */
  maxAttempts?: number;
  /** Delay after a failed try. Default 1 s doubling to 10 min. */
  backoffMs?: (attempt: number) => number;
  /** How long a claimed row stays with its worker. Default 60 s. */
  leaseMs?: number;
  /** Rows per claim. Default 100. */
  batch?: number;
  /** Under a stream of commits, the least time between two drain passes (they then claim batches). Default 20 ms. */
  coalesceMs?: number;
  /** Rows drained between two vacuums of the outbox: for the embedded database (no autovacuum). Default 0, never. */
  outboxVacuumEvery?: number;
  /** How long another process's interest in ephemeral types lasts without being renewed. Default 90 s. */
  interestTtlMs?: number;
}

interface Pending {
  events: TypedEvent[];
  outboxed: number;
}

interface Entry {
  fn: Listener<DomainEvent>;
  local: boolean;
}

/**
 * Types every process hears at once, whether or not it listens: caches derived from them (API keys,
 * memberships, models, the trigger table) must follow in every process. Every other type crosses
 * processes only while another process listens to it (its interest is announced): a bulk write or a
 * busy flow sends nothing to other processes nobody there reads (NB: the catalogue's ephemeral
 * types, and the durable ones whose durable delivery is the outbox, not the transport).
 */
const BROADCAST: ReadonlySet<string> = new Set<DomainEventType>(['key.revoked', 'member.changed', 'model.changed', 'flow.saved', 'webhook.changed']);
/** Whether a type crosses to other processes only while one of them listens to it. */
export const onInterest = (type: string) => !BROADCAST.has(type);
const isTyped = (event: DomainEvent): event is TypedEvent => 'permission' in event && EVENT_TYPES[event.type as DomainEventType] !== undefined;

export class EventSpine {
  private readonly listeners = new Map<string, Set<Entry>>();
  private readonly consumers: Consumer[] = [];
  private readonly resyncs = new Set<() => void>();
  private readonly pending = new WeakMap<object, Pending>();
  private readonly o: SpineOptions;
  private readonly onError: (err: unknown, event: DomainEvent) => void;
  private readonly drainer: OutboxDrainer | undefined;
  private readonly fanout: Fanout | undefined;
  private started = false;

  constructor(options: SpineOptions | ((err: unknown, event: DomainEvent) => void) = {}) {
    this.o = typeof options === 'function' ? { onError: options } : options;
    this.onError = this.o.onError ?? (() => {});
    const db = this.o.db;
    if (db && this.o.drain !== false) {
      const backoff = this.o.backoffMs ?? ((n: number) => Math.min(1000 * 2 ** (n - 1), 600_000));
      this.drainer = new OutboxDrainer({
        db,
        consumers: () => this.consumers,
        pollMs: this.o.pollMs ?? 5000,
        leaseMs: this.o.leaseMs ?? 60_000,
        batch: this.o.batch ?? 100,
        coalesceMs: this.o.coalesceMs ?? 20,
        vacuumEvery: this.o.outboxVacuumEvery ?? 0,
        maxAttempts: this.o.maxAttempts ?? 10,
        backoffMs: backoff,
        onParked: (row) => this.o.logger?.error({ outbox: row }, 'an event kept failing in its consumers and was parked (event_outbox.parked_at)'),
        onError: (err) => this.o.logger?.warn({ err }, 'outbox drain failed; retrying at the next wake-up'),
      });
    }
    if (this.o.transport)
      this.fanout = new Fanout({
        transport: this.o.transport,
        db,
        logger: this.o.logger,
        interestTtlMs: this.o.interestTtlMs ?? 90_000,
        localInterest: () => this.remoteTypes(),
      });
  }

  /** Stamps a new event with its id and time. */
  static stamp<T extends DomainEventType>(event: NewEvent<T>): EventOf<T> {
    return { ...event, id: randomUUID(), at: new Date().toISOString() } as unknown as EventOf<T>;
  }

  /** The name of this process's listening connection (pg_stat_activity.application_name, Redis CLIENT LIST). */
  get listenerName(): string | undefined {
    return this.fanout?.listenerName;
  }

  /** Connects the transport and drains what earlier runs left in the outbox. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.fanout?.start({
      events: (events) => {
        for (const e of events) this.deliver(e, 'remote');
      },
      wake: () => this.drainer?.wake(),
      resync: () => this.resync(),
    });
    this.drainer?.start();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.drainer?.stop();
    await this.fanout?.stop();
  }

  /**
   * Inside a transaction: the event is delivered after the commit, never after a rollback. A
   * durable type is also written to the outbox in `uow.trx` (one insert per transaction, just
   * before it commits) when some consumer wants it. Returns the stamped event.
   */
  emit<T extends DomainEventType>(uow: SpineUnitOfWork, event: NewEvent<T>): EventOf<T> {
    const stamped = EventSpine.stamp(event) as TypedEvent;
    let p = this.pending.get(uow.trx);
    if (!p) {
      const fresh: Pending = { events: [], outboxed: 0 };
      this.pending.set(uow.trx, (p = fresh));
      uow.beforeCommit(async () => {
        this.pending.delete(uow.trx);
        fresh.outboxed = await this.writeOutbox(uow.trx, fresh.events);
      });
      uow.afterCommit(() => this.committed(fresh.events, fresh.outboxed));
    }
    p.events.push(stamped);
    return stamped as EventOf<T>;
  }

  /** Outside a transaction: the change is already committed (or the event is ephemeral). */
  publish(event: NewEvent | LegacyEvent): void {
    // A catalogue event (it names its permission) is stamped; a legacy one travels as it is, in this process only.
    const typed = 'permission' in event && EVENT_TYPES[event.type as DomainEventType] !== undefined;
    if (!typed) {
      this.deliver(event, 'local');
      this.callConsumersInMemory([event]);
      return;
    }
    const e = ('id' in event ? event : EventSpine.stamp(event as NewEvent)) as TypedEvent;
    const db = this.o.db;
    if (!db || !this.wanting(e).length) return this.committed([e], 0);
    // A durable event some consumer wants: into the outbox first (its own statement), then delivered.
    void this.writeOutbox(db, [e])
      .then((n) => this.committed([e], n))
      .catch((err: unknown) => {
        this.o.logger?.error({ err, event: { type: e.type, id: e.id } }, 'could not write an event to the outbox');
        this.committed([e], 0);
      });
  }

  /**
   * Whether a durable consumer wants this event now, i.e. whether emitting it writes an outbox row.
   * A writer whose change is one statement may then skip its transaction and `publish` after it.
   */
  wantsOutbox(event: NewEvent): boolean {
    if (this.o.db === undefined) return false;
    // A probe without an organization (fields known only after the write): any consumer of the type counts.
    if (!event.orgId) return this.consumers.some((c) => (c.types as readonly string[]).includes(event.type) && (c.wantsType?.(event.type) ?? true));
    return this.wanting(event as unknown as TypedEvent).length > 0;
  }

  /** Whether anyone would receive this type: publishers may skip building costly payloads. */
  hasSubscribers(type: string): boolean {
    if (this.listeners.get(type)?.size || this.listeners.get('*')?.size) return true;
    if (this.consumers.some((c) => (c.types as readonly string[]).includes(type))) return true;
    if (!this.fanout?.active()) return false;
    return onInterest(type) ? this.fanout.remoteInterest(type) : EVENT_TYPES[type as DomainEventType] !== undefined;
  }

  /**
   * Listens to one event type ('*' for all), committed by any process of the installation (this
   * one at once, the others over the transport; `{ local: true }` for this process's only).
   * At most once: a process that was disconnected gets `onResync` instead of what it missed.
   * Returns the unsubscribe function.
   */
  subscribe<T extends DomainEventType>(type: T, listener: Listener<EventOf<T>>, options?: SubscribeOptions): () => void;
  /** @deprecated untyped: subscribe to a catalogue type instead. */
  subscribe(type: string, listener: Listener<LegacyEvent>, options?: SubscribeOptions): () => void;
  subscribe(type: string, listener: Listener<never>, options: SubscribeOptions = {}): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    const entry: Entry = { fn: listener as Listener<DomainEvent>, local: options.local === true };
    const before = this.remoteTypes();
    set.add(entry);
    if (this.remoteTypes().join() !== before.join()) this.fanout?.announce();
    return () => {
      const was = this.remoteTypes();
      set.delete(entry);
      if (this.remoteTypes().join() !== was.join()) this.fanout?.announce();
    };
  }

  /**
   * A durable consumer: every committed event of these types that it `wants` reaches it at least
   * once, in one process of the installation (through the outbox). Register it in every process
   * (at build time): a process writes outbox rows only for the consumers it knows.
   */
  consume(consumer: Consumer): () => void {
    if (!CONSUMER_NAME.test(consumer.name)) throw new Error(`bad consumer name ${consumer.name}`);
    if (this.consumers.some((c) => c.name === consumer.name)) throw new Error(`consumer ${consumer.name} is already registered`);
    this.consumers.push(consumer);
    this.drainer?.wake();
    return () => {
      const i = this.consumers.indexOf(consumer);
      if (i >= 0) this.consumers.splice(i, 1);
    };
  }

  /**
   * Called when events may have been missed (the transport reconnected): flush every cache fed by
   * events. The outbox is rescanned at the same time. Returns the unsubscribe function.
   */
  onResync(fn: () => void): () => void {
    this.resyncs.add(fn);
    return () => this.resyncs.delete(fn);
  }

  /** Tests: resolves when the outbox drain of this process is idle and outgoing messages are sent. */
  async settled(): Promise<void> {
    await this.fanout?.flushed();
    await this.drainer?.idle();
  }

  /** Tests: resolves once another process has announced interest in this (ephemeral) type. */
  async remoteInterestIn(type: string): Promise<void> {
    if (!this.fanout) throw new Error('no transport: no other process');
    await this.fanout.remoteInterestIn(type);
  }

  private committed(events: TypedEvent[], outboxed: number): void {
    for (const e of events) this.deliver(e, 'local');
    if (!this.o.db) this.callConsumersInMemory(events);
    if (outboxed > 0) {
      if (this.drainer) this.drainer.wake();
      else this.fanout?.wakeOthers();
    }
    const f = this.fanout;
    if (f?.active()) f.enqueue(events.filter((e) => !onInterest(e.type) || f.remoteInterest(e.type)));
  }

  private wanting(e: TypedEvent): string[] {
    if (EVENT_TYPES[e.type] !== 'durable') return [];
    const names: string[] = [];
    for (const c of this.consumers) {
      if (!(c.types as readonly string[]).includes(e.type)) continue;
      try {
        if (!c.wants || c.wants(e)) names.push(c.name);
      } catch (err) {
        // A consumer that cannot decide gets the event: losing it is worse than a no-op call.
        this.onError(err, e);
        names.push(c.name);
      }
    }
    return names;
  }

  private async writeOutbox(db: QueryExecutorProvider, events: TypedEvent[]): Promise<number> {
    if (!this.o.db) return 0;
    const rows: { event: TypedEvent; consumers: string[] }[] = [];
    for (const event of events) {
      const consumers = this.wanting(event);
      if (consumers.length) rows.push({ event, consumers });
    }
    if (rows.length) await insertOutbox(db, rows);
    return rows.length;
  }

  /** To the listeners of its type and of '*'; an event from another process skips `{ local: true }` ones. */
  private deliver(event: DomainEvent, from: 'local' | 'remote'): void {
    for (const entry of [...(this.listeners.get(event.type) ?? []), ...(this.listeners.get('*') ?? [])])
      if (from === 'local' || !entry.local) this.call(entry.fn, event);
  }

  /** Without an outbox (no database): durable consumers are called here, after commit, once. */
  private callConsumersInMemory(events: DomainEvent[]): void {
    for (const event of events)
      for (const c of this.consumers) {
        if (!(c.types as readonly string[]).includes(event.type)) continue;
        if (isTyped(event) && c.wants && !c.wants(event)) continue;
        this.call(c.handle as Listener<DomainEvent>, event);
      }
  }

  private call(listener: Listener<DomainEvent>, event: DomainEvent): void {
    try {
      const r = listener(event);
      if (r instanceof Promise) r.catch((err: unknown) => this.onError(err, event));
    } catch (err) {
      this.onError(err, event);
    }
  }

  private resync(): void {
    for (const fn of this.resyncs) {
      try {
        fn();
      } catch (err) {
        this.o.logger?.warn({ err }, 'a resync handler failed');
      }
    }
    this.drainer?.wake();
  }

  /** The types sent on interest that this process listens to for events of any process ('*' for all). */
  private remoteTypes(): string[] {
    const types: string[] = [];
    for (const [type, set] of this.listeners) {
      if (![...set].some((e) => !e.local)) continue;
      if (type === '*') return ['*'];
      if (onInterest(type) && EVENT_TYPES[type as DomainEventType] !== undefined) types.push(type);
    }
    return types.sort();
  }
}
