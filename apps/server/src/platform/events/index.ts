import { EventEmitter } from 'node:events';

/**
 * In-process event bus. Services publish domain events only after their transaction commits
 * (see `UnitOfWork.afterCommit`), so a subscriber never sees a change that was rolled back.
 * Cross-instance fan-out (Redis / LISTEN-NOTIFY) plugs in behind this interface later.
 */
export interface DomainEvent {
  type: string;
  orgId: string | null;
  [key: string]: unknown;
}

export class EventBus {
  private readonly emitter = new EventEmitter({ captureRejections: true });

  constructor(private readonly onError: (err: unknown, event: DomainEvent) => void = () => {}) {
    this.emitter.setMaxListeners(100);
  }

  publish(event: DomainEvent): void {
    for (const listener of [...this.emitter.listeners(event.type), ...this.emitter.listeners('*')]) {
      try {
        const r = (listener as (e: DomainEvent) => unknown)(event);
        if (r instanceof Promise) r.catch((err: unknown) => this.onError(err, event));
      } catch (err) {
        this.onError(err, event);
      }
    }
  }

  subscribe(type: string, listener: (event: DomainEvent) => void | Promise<void>): () => void {
    this.emitter.on(type, listener);
    return () => this.emitter.off(type, listener);
  }
}
