import { randomUUID } from 'node:crypto';
import { EVENT_TYPES, type DomainEventType, type EventOf, type NewEvent, type DomainEvent as TypedEvent } from '@infinity/contracts';
import type { UnitOfWork } from '../db/transaction.js';

/**
 * The event spine (issue #26): typed domain events, published only after the transaction that
 * produced them commits (never after a rollback).
 *
 *   service ── emit(uow, e) ──► [outbox row in the same trx, if a durable consumer wants e]
 *                                   │ commit
 *                                   ▼
 *            subscribe(type) ◄── fan-out (this process; other processes over the transport)
 *            consume(name)   ◄── outbox drained with a lease (durable types, at least once)
 *
 * NB: this first cut is in-process only (no outbox table, no transport); durable consumers are
 * called after commit in this process. The outbox, LISTEN/NOTIFY and Redis transports plug in
 * behind this same interface.
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
  name: string;
  types: readonly DomainEventType[];
  wants?: (event: TypedEvent) => boolean;
  /** Called at least once per committed event; must be idempotent on `event.id`. */
  handle: (event: TypedEvent) => Promise<void>;
}

export class EventSpine {
  private readonly listeners = new Map<string, Set<Listener<DomainEvent>>>();
  private readonly consumers: Consumer[] = [];

  constructor(private readonly onError: (err: unknown, event: DomainEvent) => void = () => {}) {}

  /** Stamps a new event with its id and time. */
  static stamp<T extends DomainEventType>(event: NewEvent<T>): EventOf<T> {
    return { ...event, id: randomUUID(), at: new Date().toISOString() } as unknown as EventOf<T>;
  }

  /**
   * Inside a transaction: the event is delivered after the commit, never after a rollback.
   * A durable type is (later) also written to the outbox in `uow.trx` when a consumer wants it.
   */
  emit<T extends DomainEventType>(uow: Pick<UnitOfWork<unknown>, 'afterCommit'>, event: NewEvent<T>): void {
    const stamped = EventSpine.stamp(event);
    uow.afterCommit(() => this.deliver(stamped));
  }

  /** Outside a transaction: the change is already committed (or the event is ephemeral). */
  publish(event: NewEvent | LegacyEvent): void {
    // A catalogue event (it names its permission) is stamped; a legacy one travels as it is.
    const typed = 'permission' in event && EVENT_TYPES[event.type as DomainEventType] !== undefined;
    const e = typed && !('id' in event) ? (EventSpine.stamp(event as NewEvent) as TypedEvent) : (event as DomainEvent);
    this.deliver(e);
  }

  /** Whether anyone would receive this type: publishers may skip building costly payloads. */
  hasSubscribers(type: string): boolean {
    return Boolean(
      this.listeners.get(type)?.size || this.listeners.get('*')?.size || this.consumers.some((c) => (c.types as readonly string[]).includes(type)),
    );
  }

  /** Listens on this process to one event type ('*' for all); returns the unsubscribe function. */
  subscribe<T extends DomainEventType>(type: T, listener: Listener<EventOf<T>>): () => void;
  /** @deprecated untyped: subscribe to a catalogue type instead. */
  subscribe(type: string, listener: Listener<LegacyEvent>): () => void;
  subscribe(type: string, listener: Listener<never>): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    const l = listener as Listener<DomainEvent>;
    set.add(l);
    return () => set.delete(l);
  }

  /** A durable consumer: every committed event of these types reaches it at least once. */
  consume(consumer: Consumer): () => void {
    this.consumers.push(consumer);
    return () => {
      const i = this.consumers.indexOf(consumer);
      if (i >= 0) this.consumers.splice(i, 1);
    };
  }

  private deliver(event: DomainEvent): void {
    for (const listener of [...(this.listeners.get(event.type) ?? []), ...(this.listeners.get('*') ?? [])]) this.call(listener, event);
    for (const c of this.consumers) {
      if (!(c.types as readonly string[]).includes(event.type)) continue;
      const typed = event as TypedEvent;
      if (c.wants && !c.wants(typed)) continue;
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
}
