import { randomUUID } from 'node:crypto';
import { EVENT_TYPES, type DomainEventType, type EventOf, type NewEvent, type DomainEvent as TypedEvent } from '@infinity/contracts';
import type { Kysely, QueryExecutorProvider } from 'kysely';
import type { UnitOfWork } from '../db/transaction.js';
import type { Logger } from '../logger.js';
import { OutboxDrainer } from './drainer.js';
import { CONSUMER_NAME, insertOutbox, loadPayload, storePayload } from './outbox.js';
import type { Transport } from './transport.js';
import { type Wire, parseWire } from './wire.js';

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
  /** Called at least once per committed event; must be idempotent on `event.id`. */
  handle: (event: TypedEvent) => Promise<void>;
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

const isEphemeral = (type: string) => EVENT_TYPES[type as DomainEventType] === 'ephemeral';
const isTyped = (event: DomainEvent): event is TypedEvent => 'permission' in event && EVENT_TYPES[event.type as DomainEventType] !== undefined;

export class EventSpine {
  /** This process on the transport (messages from it are dropped on receipt). */
  readonly origin = randomUUID();
  private readonly listeners = new Map<string, Set<Entry>>();
  private readonly consumers: Consumer[] = [];
  private readonly resyncs = new Set<() => void>();
  private readonly pending = new WeakMap<object, Pending>();
  private readonly o: SpineOptions;
  private readonly onError: (err: unknown, event: DomainEvent) => void;
  private readonly drainer: OutboxDrainer | undefined;
  /** Ephemeral types other processes listen to: type → origin → expiry. */
  private readonly interest = new Map<string, Map<string, number>>();
  private readonly interestWaiters = new Set<{ type: string; resolve: () => void }>();
  private outgoing: TypedEvent[] = [];
  private flushing: Promise<void> | undefined;
  private chain: Promise<void> = Promise.resolve();
  private announceTimer: NodeJS.Timeout | undefined;
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
        maxAttempts: this.o.maxAttempts ?? 10,
        backoffMs: backoff,
        onParked: (row) => this.o.logger?.error({ outbox: row }, 'an event kept failing in its consumers and was parked (event_outbox.parked_at)'),
        onError: (err) => this.o.logger?.warn({ err }, 'outbox drain failed; retrying at the next wake-up'),
      });
    }
  }

  /** Stamps a new event with its id and time. */
  static stamp<T extends DomainEventType>(event: NewEvent<T>): EventOf<T> {
    return { ...event, id: randomUUID(), at: new Date().toISOString() } as unknown as EventOf<T>;
  }

  /** The name of this process's listening connection (pg_stat_activity.application_name, Redis CLIENT LIST). */
  get listenerName(): string | undefined {
    return this.o.transport?.listenerName;
  }

  /** Connects the transport and drains what earlier runs left in the outbox. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.o.transport?.start({
      message: (m) => this.receive(m),
      resync: () => this.resync(),
    });
    this.drainer?.start();
    if (this.o.transport) {
      this.send({ k: 'hello', o: this.origin });
      this.announce();
      const ttl = this.o.interestTtlMs ?? 90_000;
      this.announceTimer = setInterval(() => this.announce(true), ttl / 3);
      this.announceTimer.unref();
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    clearInterval(this.announceTimer);
    await this.drainer?.stop();
    // Others stop sending this process ephemeral events.
    this.send({ k: 'interest', o: this.origin, types: [] });
    await this.flushed();
    this.started = false;
    await this.o.transport?.close();
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
      this.deliverLocal(event);
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

  /** Whether anyone would receive this type: publishers may skip building costly payloads. */
  hasSubscribers(type: string): boolean {
    if (this.listeners.get(type)?.size || this.listeners.get('*')?.size) return true;
    if (this.consumers.some((c) => (c.types as readonly string[]).includes(type))) return true;
    if (!this.crossProcess()) return false;
    return isEphemeral(type) ? this.remoteInterest(type) : EVENT_TYPES[type as DomainEventType] !== undefined;
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
    const before = this.ephemeralInterest();
    set.add(entry);
    if (this.ephemeralInterest().join() !== before.join()) this.announce();
    return () => {
      const was = this.ephemeralInterest();
      set.delete(entry);
      if (this.ephemeralInterest().join() !== was.join()) this.announce();
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
    await this.flushed();
    await this.drainer?.idle();
  }

  /** Tests: resolves once another process has announced interest in this (ephemeral) type. */
  async remoteInterestIn(type: string): Promise<void> {
    if (this.remoteInterest(type)) return;
    await new Promise<void>((resolve) => this.interestWaiters.add({ type, resolve }));
  }

  // ── after commit ──────────────────────────────────────────────────────────────────────────────

  private committed(events: TypedEvent[], outboxed: number): void {
    for (const e of events) this.deliverLocal(e);
    if (!this.o.db) this.callConsumersInMemory(events);
    if (outboxed > 0) {
      if (this.drainer) this.drainer.wake();
      else this.send({ k: 'wake', o: this.origin });
    }
    if (this.crossProcess()) {
      for (const e of events) if (!isEphemeral(e.type) || this.remoteInterest(e.type)) this.outgoing.push(e);
      this.flushSoon();
    }
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

  private deliverLocal(event: DomainEvent): void {
    for (const entry of [...(this.listeners.get(event.type) ?? []), ...(this.listeners.get('*') ?? [])]) this.call(entry.fn, event);
  }

  private deliverRemote(event: TypedEvent): void {
    for (const entry of [...(this.listeners.get(event.type) ?? []), ...(this.listeners.get('*') ?? [])]) if (!entry.local) this.call(entry.fn, event);
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

  // ── between processes ─────────────────────────────────────────────────────────────────────────

  private crossProcess(): boolean {
    return this.started && this.o.transport !== undefined && !this.o.transport.alone?.();
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
    // Others may have forgotten this process's interest (and it theirs): ask again.
    this.send({ k: 'hello', o: this.origin });
    this.announce();
  }

  private ephemeralInterest(): string[] {
    const types: string[] = [];
    for (const [type, set] of this.listeners) {
      if (![...set].some((e) => !e.local)) continue;
      if (type === '*') return ['*'];
      if (isEphemeral(type)) types.push(type);
    }
    return types.sort();
  }

  private announce(renewal = false): void {
    if (!this.crossProcess()) return;
    const types = this.ephemeralInterest();
    if (renewal && types.length === 0) return;
    this.send({ k: 'interest', o: this.origin, types });
  }

  private remoteInterest(type: string): boolean {
    const now = Date.now();
    for (const t of [type, '*']) {
      const by = this.interest.get(t);
      if (!by) continue;
      for (const [origin, until] of by) {
        if (until > now) return true;
        by.delete(origin);
      }
    }
    return false;
  }

  private send(message: Wire): void {
    const t = this.o.transport;
    if (!t || !this.started) return;
    void this.transmit(JSON.stringify(message));
  }

  /**
   * Sends one message after the ones before it. NB: sends go through a pool of connections on
   * PostgreSQL; sent side by side they could overtake each other (a newer interest announcement
   * arriving before an older one), so every message of this process waits for the previous one.
   */
  private async transmit(text: string): Promise<void> {
    const t = this.o.transport!;
    const p = this.chain.then(() => t.send(text));
    this.chain = p.catch((err: unknown) => this.o.logger?.warn({ err }, 'could not send an event message'));
    return this.chain;
  }

  private flushSoon(): void {
    if (this.flushing) return;
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.flush())
      .catch((err: unknown) => this.o.logger?.warn({ err }, 'could not send events to other processes'))
      .finally(() => {
        this.flushing = undefined;
        if (this.outgoing.length) this.flushSoon();
      });
  }

  private async flushed(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.chain;
  }

  /** Sends the queued events, packed into as few messages as fit; an event too large for one goes by reference. */
  private async flush(): Promise<void> {
    const t = this.o.transport!;
    const events = this.outgoing;
    this.outgoing = [];
    const head = `{"k":"events","o":"${this.origin}","e":[`;
    const max = t.maxMessageBytes;
    let batch: string[] = [];
    let size = Buffer.byteLength(head) + 2;
    const sendBatch = async () => {
      if (batch.length) await this.transmit(`${head}${batch.join(',')}]}`);
      batch = [];
      size = Buffer.byteLength(head) + 2;
    };
    for (const e of events) {
      const json = JSON.stringify(e);
      const bytes = Buffer.byteLength(json) + 1;
      if (size + bytes > max) await sendBatch();
      if (Buffer.byteLength(head) + 2 + bytes <= max) {
        batch.push(json);
        size += bytes;
        continue;
      }
      // Too large for any message: stored in the database, its id travels.
      if (!this.o.db) throw new Error('an event too large for the transport needs a database');
      const id = randomUUID();
      await storePayload(this.o.db, id, `${head}${json}]}`);
      await this.transmit(JSON.stringify({ k: 'ref', o: this.origin, id } satisfies Wire));
    }
    await sendBatch();
  }

  private receive(raw: string): void {
    const m = parseWire(raw);
    if (!m || m.o === this.origin) return;
    switch (m.k) {
      case 'events':
        for (const e of m.e) this.deliverRemote(e);
        return;
      case 'ref':
        if (!this.o.db) return;
        void loadPayload(this.o.db, m.id)
          .then((body) => {
            if (body === undefined) this.o.logger?.warn({ id: m.id }, 'an event message passed by reference was already pruned');
            else this.receive(body);
          })
          .catch((err: unknown) => this.o.logger?.warn({ err }, 'could not read an event message passed by reference'));
        return;
      case 'wake':
        this.drainer?.wake();
        return;
      case 'hello':
        this.announce(true);
        return;
      case 'interest':
        this.noteInterest(m.o, m.types);
        return;
    }
  }

  private noteInterest(origin: string, types: string[]): void {
    for (const by of this.interest.values()) by.delete(origin);
    const until = Date.now() + (this.o.interestTtlMs ?? 90_000);
    for (const type of types) {
      let by = this.interest.get(type);
      if (!by) this.interest.set(type, (by = new Map<string, number>()));
      by.set(origin, until);
    }
    for (const w of this.interestWaiters)
      if (this.remoteInterest(w.type)) {
        this.interestWaiters.delete(w);
        w.resolve();
      }
  }
}
