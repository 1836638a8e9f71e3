export { EventSpine, type Consumer, type ConsumerOptions, type LegacyEvent, type SpineOptions, type SpineUnitOfWork, type SubscribeOptions } from './spine.js';
export { LocalHub, localTransport, type Transport, type TransportHandlers } from './transport.js';
export { postgresTransport } from './postgres-transport.js';
export { redisTransport } from './redis-transport.js';
export { transportFor } from './transport-for.js';
export { pendingOutbox } from './outbox.js';
export { summary } from './summary.js';
export type { DomainEvent as TypedEvent, DomainEventType, EventOf, NewEvent } from '@infinity/contracts';
/** @deprecated the untyped event shape; call sites move to TypedEvent (#26). */
export type { LegacyEvent as DomainEvent } from './spine.js';
/** @deprecated the old name of EventSpine; kept while call sites move to the typed API (#26). */
export { EventSpine as EventBus } from './spine.js';
