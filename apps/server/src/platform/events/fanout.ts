import { randomUUID } from 'node:crypto';
import type { DomainEvent as TypedEvent } from '@infinity/contracts';
import type { Kysely } from 'kysely';
import type { Logger } from '../logger.js';
import { loadPayload, storePayload } from './outbox.js';
import type { Transport } from './transport.js';
import { type Wire, parseWire } from './wire.js';

export interface FanoutHandlers {
  /** Events committed by another process. */
  events: (events: TypedEvent[]) => void;
  /** Another process wrote outbox rows it does not drain itself. */
  wake: () => void;
  /** Messages may have been missed (the transport reconnected). */
  resync: () => void;
}

/**
 * The spine's side of the transport: committed events packed into as few messages as fit (one
 * too large goes by reference through `event_payloads`), sent in order; the interest of other
 * processes in ephemeral types; messages from others routed to the spine.
 */
export class Fanout {
  /** This process on the transport (messages from it are dropped on receipt). */
  readonly origin = randomUUID();
  /** Ephemeral types other processes listen to: type → origin → expiry. */
  private readonly interest = new Map<string, Map<string, number>>();
  private readonly interestWaiters = new Set<{ type: string; resolve: () => void }>();
  private outgoing: TypedEvent[] = [];
  private flushing: Promise<void> | undefined;
  private chain: Promise<void> = Promise.resolve();
  private announceTimer: NodeJS.Timeout | undefined;
  private started = false;
  private handlers: FanoutHandlers | undefined;

  constructor(
    private readonly o: {
      transport: Transport;
      db: Kysely<object> | undefined;
      logger: Pick<Logger, 'warn'> | undefined;
      interestTtlMs: number;
      /** The ephemeral types this process listens to now ('*' for all). */
      localInterest: () => string[];
    },
  ) {}

  get listenerName(): string | undefined {
    return this.o.transport.listenerName;
  }

  async start(handlers: FanoutHandlers): Promise<void> {
    this.handlers = handlers;
    await this.o.transport.start({ message: (m) => this.receive(m), resync: () => this.resynced() });
    this.started = true;
    this.send({ k: 'hello', o: this.origin });
    this.announce();
    this.announceTimer = setInterval(() => this.announce(true), this.o.interestTtlMs / 3);
    this.announceTimer.unref();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    clearInterval(this.announceTimer);
    // Others stop sending this process ephemeral events.
    this.send({ k: 'interest', o: this.origin, types: [] });
    await this.flushed();
    this.started = false;
    await this.o.transport.close();
  }

  /** Whether another process may be listening at all. */
  active(): boolean {
    return this.started && !this.o.transport.alone?.();
  }

  /** Queues committed events for the other processes (sent together on the next turn of the loop). */
  enqueue(events: TypedEvent[]): void {
    if (!this.active() || events.length === 0) return;
    this.outgoing.push(...events);
    this.flushSoon();
  }

  wakeOthers(): void {
    this.send({ k: 'wake', o: this.origin });
  }

  /** The ephemeral types this process listens to changed. */
  announce(renewal = false): void {
    if (!this.active()) return;
    const types = this.o.localInterest();
    if (renewal && types.length === 0) return;
    this.send({ k: 'interest', o: this.origin, types });
  }

  remoteInterest(type: string): boolean {
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

  async remoteInterestIn(type: string): Promise<void> {
    if (this.remoteInterest(type)) return;
    await new Promise<void>((resolve) => this.interestWaiters.add({ type, resolve }));
  }

  /** Resolves when every queued message is sent. */
  async flushed(): Promise<void> {
    while (this.flushing) await this.flushing;
    await this.chain;
  }

  private resynced(): void {
    this.handlers?.resync();
    // Others may have forgotten this process's interest (and it theirs): ask again.
    this.send({ k: 'hello', o: this.origin });
    this.announce();
  }

  private send(message: Wire): void {
    if (this.started) void this.transmit(JSON.stringify(message));
  }

  /**
   * Sends one message after the ones before it. NB: sends go through a pool of connections on
   * PostgreSQL; sent side by side they could overtake each other (a newer interest announcement
   * arriving before an older one), so every message of this process waits for the previous one.
   */
  private async transmit(text: string): Promise<void> {
    const p = this.chain.then(() => this.o.transport.send(text));
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

  /** Sends the queued events, packed into as few messages as fit; an event too large for one goes by reference. */
  private async flush(): Promise<void> {
    const events = this.outgoing;
    this.outgoing = [];
    const head = `{"k":"events","o":"${this.origin}","e":[`;
    const empty = Buffer.byteLength(head) + 2;
    const max = this.o.transport.maxMessageBytes;
    let batch: string[] = [];
    let size = empty;
    const sendBatch = async () => {
      if (batch.length) await this.transmit(`${head}${batch.join(',')}]}`);
      batch = [];
      size = empty;
    };
    for (const e of events) {
      const json = JSON.stringify(e);
      const bytes = Buffer.byteLength(json) + 1;
      if (size + bytes > max) await sendBatch();
      if (empty + bytes <= max) {
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
    if (!m || m.o === this.origin || !this.handlers) return;
    switch (m.k) {
      case 'events':
        this.handlers.events(m.e);
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
        this.handlers.wake();
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
    const until = Date.now() + this.o.interestTtlMs;
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
