export { EventSpine, type Consumer, type ConsumerOptions, type LegacyEvent } from './spine.js';
export type { DomainEvent as TypedEvent, DomainEventType, EventOf, NewEvent } from '@infinity/contracts';
/** @deprecated the untyped event shape; call sites move to TypedEvent (#26). */
export type { LegacyEvent as DomainEvent } from './spine.js';
/** @deprecated the old name of EventSpine; kept while call sites move to the typed API (#26). */
export { EventSpine as EventBus } from './spine.js';
