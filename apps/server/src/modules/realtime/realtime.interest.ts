import type { DomainEventType, DomainEvent as TypedEvent } from '@infinity/contracts';
import type { EventSpine } from '../../platform/events/index.js';

/**
 * The spine types this process listens to for realtime: a type is subscribed while some
 * subscription needs it, and kept for a grace period (the replay window) after the last one went,
 * so the replay log still has what a client reconnecting elsewhere missed. Subscribing is what
 * announces interest to the other processes (they send these types only while someone listens).
 */
export class Interest {
  private readonly counts = new Map<DomainEventType, number>();
  private readonly offs = new Map<DomainEventType, () => void>();
  private readonly timers = new Map<DomainEventType, NodeJS.Timeout>();

  constructor(
    private readonly spine: EventSpine,
    private readonly onEvent: (e: TypedEvent) => void,
    private readonly graceMs: number,
  ) {}

  retain(types: readonly DomainEventType[]): void {
    for (const t of types) {
      this.counts.set(t, (this.counts.get(t) ?? 0) + 1);
      const timer = this.timers.get(t);
      if (timer) {
        clearTimeout(timer);
        this.timers.delete(t);
      }
      if (!this.offs.has(t))
        this.offs.set(
          t,
          this.spine.subscribe(t, (e: TypedEvent) => this.onEvent(e)),
        );
    }
  }

  release(types: readonly DomainEventType[]): void {
    for (const t of types) {
      const n = (this.counts.get(t) ?? 1) - 1;
      if (n > 0) {
        this.counts.set(t, n);
        continue;
      }
      this.counts.delete(t);
      if (this.timers.has(t)) continue;
      const timer = setTimeout(() => {
        this.timers.delete(t);
        if (this.counts.has(t)) return;
        this.offs.get(t)?.();
        this.offs.delete(t);
      }, this.graceMs);
      timer.unref();
      this.timers.set(t, timer);
    }
  }

  /** The types listened to now (tests, metrics). */
  listening(): DomainEventType[] {
    return [...this.offs.keys()].sort();
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const off of this.offs.values()) off();
    this.offs.clear();
    this.counts.clear();
  }
}
