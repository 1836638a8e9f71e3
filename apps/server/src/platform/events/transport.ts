/**
 * How the event spine reaches the other processes of one installation: a broadcast of short text
 * messages. Every endpoint receives every message, the sender's own included (the spine drops its
 * own by origin). Messages are at most once: a message sent while a receiver is disconnected is
 * lost to it, so a reconnect reports `resync` and the spine flushes every cache fed by events and
 * rescans the outbox (durable work is never carried by a message alone).
 */
export interface TransportHandlers {
  message: (message: string) => void;
  /** The connection dropped and is back: messages may have been missed meanwhile. */
  resync: () => void;
  /** The connection dropped (a reconnect follows). */
  disconnected?: () => void;
}

export interface Transport {
  readonly kind: 'local' | 'postgres' | 'redis';
  /** Largest message (UTF-8 bytes) `send` accepts; the spine sends larger ones by reference. */
  readonly maxMessageBytes: number;
  /** The name of the listening connection (application_name, Redis CLIENT SETNAME), when it has one. */
  readonly listenerName?: string;
  /** Whether no other endpoint can be listening (the embedded database's single process): the spine then sends nothing. */
  alone?: () => boolean;
  /** Connects and starts delivering messages to `handlers`. */
  start(handlers: TransportHandlers): Promise<void>;
  send(message: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * In-process delivery between the endpoints of one hub: the embedded database serves one process,
 * so its spine needs nobody else; tests connect several spines to one hub to play processes.
 */
export class LocalHub {
  private readonly endpoints = new Set<TransportHandlers>();

  transport(): Transport {
    let mine: TransportHandlers | undefined;
    return {
      kind: 'local',
      maxMessageBytes: Number.POSITIVE_INFINITY,
      alone: () => this.endpoints.size <= 1,
      start: async (handlers) => {
        mine = handlers;
        this.endpoints.add(handlers);
        return Promise.resolve();
      },
      send: async (message) => {
        // Asynchronous like a network: never inside the sender's call stack.
        for (const h of this.endpoints) setImmediate(() => this.endpoints.has(h) && h.message(message));
        return Promise.resolve();
      },
      close: async () => {
        if (mine) this.endpoints.delete(mine);
        return Promise.resolve();
      },
    };
  }

  /** Tests: as if every endpoint's connection had dropped and come back. */
  resync(): void {
    for (const h of this.endpoints) {
      h.disconnected?.();
      h.resync();
    }
  }
}

export function localTransport(): Transport {
  return new LocalHub().transport();
}
