import { randomUUID } from 'node:crypto';
import type { FilterNode } from '../records/index.js';
import type { ChannelSpec } from './realtime.channels.js';
import type { AppError } from '../../platform/errors.js';
import type { ChannelParams } from './realtime.protocol.js';
import type { Principal } from './realtime.auth.js';

/** Where a connection's messages go: a WebSocket or an SSE response. */
export interface Sink {
  readonly kind: 'ws' | 'sse';
  write(text: string): void;
  /** Bytes written and not yet handed to the network. */
  buffered(): number;
  /** Sends the error (when given) and closes; a peer that does not finish closing is cut off. */
  close(error?: AppError): void;
  /** Heartbeat: false when the peer left the last two unanswered (it is then cut off). */
  beat(): boolean;
}

export interface Subscription {
  readonly conn: Connection;
  readonly id: string;
  /** The id as JSON, concatenated into every frame. */
  readonly idJson: string;
  readonly orgId: string;
  readonly params: ChannelParams;
  readonly spec: ChannelSpec;
  readonly filter?: FilterNode;
  /** Subscribers with the same (organization, model, filter) share one evaluation per event. */
  readonly filterKey?: string;
  /** While an SSE replay runs, live frames wait here (then those not replayed are sent). */
  held?: { eventId: string; text: string }[] | undefined;
  heldBytes?: number;
}

export class Connection {
  readonly id = randomUUID();
  readonly subs = new Map<string, Subscription>();
  closed = false;
  expiry: NodeJS.Timeout | undefined;

  constructor(
    readonly sink: Sink,
    public principal: Principal,
  ) {}

  get orgId(): string {
    return this.principal.actor.orgId;
  }
}
