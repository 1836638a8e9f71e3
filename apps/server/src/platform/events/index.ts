/**
 * In-process event bus. Services publish domain events only after their transaction commits,
 * so a subscriber never sees a change that was rolled back. A failing subscriber is reported and
 * never affects the publisher or other subscribers. Realtime, outbound webhooks, embeddings and
 * flow triggers subscribe here; cross-instance fan-out plugs in behind this interface.
 */
export interface DomainEvent {
  type: string;
  orgId: string;
  [key: string]: unknown;
}

type Listener = (event: DomainEvent) => void | Promise<void>;

export class EventBus {
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(private readonly onError: (err: unknown, event: DomainEvent) => void = () => {}) {}

  publish(event: DomainEvent): void {
    for (const listener of [...(this.listeners.get(event.type) ?? []), ...(this.listeners.get('*') ?? [])]) {
      try {
        const r = listener(event);
        if (r instanceof Promise) r.catch((err: unknown) => this.onError(err, event));
      } catch (err) {
        this.onError(err, event);
      }
    }
  }

  /** Whether anyone would receive this type: publishers may skip building costly payloads. */
  hasSubscribers(type: string): boolean {
    return Boolean(this.listeners.get(type)?.size || this.listeners.get('*')?.size);
  }

  /** Subscribes to one event type ('*' for all); returns the unsubscribe function. */
  subscribe(type: string, listener: Listener): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }
}
