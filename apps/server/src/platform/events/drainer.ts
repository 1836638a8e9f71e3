import type { DomainEvent as TypedEvent } from '@infinity/contracts';
import type { Kysely } from 'kysely';
import { claimOutbox, deleteOutbox, pruneOutbox, retryOutbox, vacuumOutbox, type OutboxRow } from './outbox.js';

export interface DrainConsumer {
  name: string;
  handle: (event: TypedEvent) => Promise<void>;
  handleBatch?: (events: TypedEvent[]) => Promise<void>;
}

export interface DrainerOptions {
  db: Kysely<object>;
  /** The consumers registered now (looked up on every pass). */
  consumers: () => readonly DrainConsumer[];
  /** Polls for rows whose wake-up was lost, whose backoff ended or whose worker died. */
  pollMs: number;
  leaseMs: number;
  batch: number;
  /**
   * After a pass that found rows but less than a batch, the next one starts no sooner than this
   * (ms), so that under a stream of commits it claims a batch rather than one row: a pass costs a
   * claim, the consumers' statements and a delete whatever its size. A lone event is drained at once.
   */
  coalesceMs: number;
  /**
   * Rows drained between two `vacuum event_outbox` (0: never). The embedded database has no
   * autovacuum: every drained row leaves dead versions the claim's index scan walks past.
   */
  vacuumEvery: number;
  /** Tries before a row is parked (dead letter). */
  maxAttempts: number;
  /** Delay before try `attempt + 1`. */
  backoffMs: (attempt: number) => number;
  onParked: (row: { eventId: string; type: string; consumers: string[]; attempts: number; error: string }) => void;
  onError: (err: unknown) => void;
}

/**
 * Drains the outbox: claims ready rows with a lease, hands each to the consumers that still need
 * it (each consumer sees the batch in order), removes a consumer from the row when it succeeded,
 * deletes the row when none is left, and backs off (then parks) what failed.
 */
export class OutboxDrainer {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private poll: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private retryAt = Number.POSITIVE_INFINITY;
  private passes = 0;
  /** No pass starts before this time (ms): see `coalesceMs`. */
  private gatherUntil = 0;
  private sinceVacuum = 0;

  constructor(private readonly o: DrainerOptions) {}

  start(): void {
    this.stopped = false;
    this.poll = setInterval(() => this.wake(), this.o.pollMs);
    this.poll.unref();
    this.wake();
  }

  /** Drain now (after a commit that wrote rows, a wake-up from another process, a resync). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
      if (this.again) this.wake();
    });
  }

  /** Resolves when no pass is running or asked for (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    clearTimeout(this.retry);
    await this.idle();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const wait = this.gatherUntil - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (this.stopped) return;
      try {
        const consumers = this.o.consumers();
        if (consumers.length === 0) return;
        const rows = await claimOutbox(
          this.o.db,
          consumers.map((c) => c.name),
          this.o.batch,
          this.o.leaseMs,
        );
        if (rows.length === this.o.batch) this.again = true;
        if (rows.length) await this.handle(rows, consumers);
        if (++this.passes % 1000 === 1) await pruneOutbox(this.o.db, 30);
        this.sinceVacuum += rows.length;
        if (this.o.vacuumEvery > 0 && this.sinceVacuum >= this.o.vacuumEvery) {
          this.sinceVacuum = 0;
          await vacuumOutbox(this.o.db);
        }
        // Found some but not a batch: busy, the next pass lets the next batch gather first.
        this.gatherUntil = rows.length > 0 && rows.length < this.o.batch ? Date.now() + this.o.coalesceMs : 0;
      } catch (err) {
        this.o.onError(err);
        return;
      }
    } while (this.again && !this.stopped);
  }

  private async handle(rows: OutboxRow[], consumers: readonly DrainConsumer[]): Promise<void> {
    const failed = new Map<number, { names: Set<string>; error: string }>();
    const fail = (row: OutboxRow, c: DrainConsumer, err: unknown) => {
      const f = failed.get(row.id) ?? { names: new Set<string>(), error: '' };
      f.names.add(c.name);
      f.error = `${c.name}: ${err instanceof Error ? err.message : String(err)}`;
      failed.set(row.id, f);
    };
    // Each consumer takes the batch in order (all at once with handleBatch); consumers run side by side.
    await Promise.all(
      consumers.map(async (c) => {
        const mine = rows.filter((row) => row.consumers.includes(c.name));
        if (c.handleBatch) {
          if (mine.length) await c.handleBatch(mine.map((r) => r.payload)).catch((err: unknown) => mine.forEach((row) => fail(row, c, err)));
          return;
        }
        for (const row of mine) {
          try {
            await c.handle(row.payload);
          } catch (err) {
            fail(row, c, err);
          }
        }
      }),
    );
    const mine = new Set(consumers.map((c) => c.name));
    const done: number[] = [];
    for (const row of rows) {
      const f = failed.get(row.id);
      // What is left: the failures, and consumers this process does not run (another version's).
      const left = row.consumers.filter((n) => f?.names.has(n) || !mine.has(n));
      if (left.length === 0) {
        done.push(row.id);
        continue;
      }
      const park = Boolean(f) && row.attempts >= this.o.maxAttempts;
      const delayMs = f ? this.o.backoffMs(row.attempts) : 0;
      await retryOutbox(this.o.db, { id: row.id, consumers: left, error: f?.error ?? '', delayMs, park });
      if (park) this.o.onParked({ eventId: row.event_id, type: row.type, consumers: [...(f?.names ?? [])], attempts: row.attempts, error: f?.error ?? '' });
      else if (f) this.retryIn(delayMs);
    }
    await deleteOutbox(this.o.db, done);
  }

  /** Wakes when the earliest backoff ends (sooner than the next poll). */
  private retryIn(ms: number): void {
    const at = Date.now() + ms;
    if (at >= this.retryAt && this.retry) return;
    clearTimeout(this.retry);
    this.retryAt = at;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.retryAt = Number.POSITIVE_INFINITY;
      this.wake();
    }, ms + 5);
    this.retry.unref();
  }
}
