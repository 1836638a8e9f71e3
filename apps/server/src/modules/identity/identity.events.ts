import type { SpineUnitOfWork } from '../../platform/events/index.js';
import { type Actor, eventActor } from '../access/index.js';
import type { IdentityContext } from './identity.context.js';

/**
 * Identity on the event spine: revoked keys and changed memberships are events, committed with the
 * change; the principal cache of every process forgets what they touch as soon as they arrive.
 */

export function emitKeyRevoked(ctx: IdentityContext, uow: SpineUnitOfWork, d: { orgId: string; actor: Actor; keyId: string; keyHash: string }): void {
  ctx.events.emit(uow, { type: 'key.revoked', orgId: d.orgId, permission: 'org:read', actor: eventActor(d.actor), keyId: d.keyId, keyHash: d.keyHash });
}

/** `role` null: the member left or was removed. */
export function emitMemberChanged(ctx: IdentityContext, uow: SpineUnitOfWork, d: { orgId: string; actor: Actor; userId: string; role: string | null }): void {
  ctx.events.emit(uow, { type: 'member.changed', orgId: d.orgId, permission: 'members:read', actor: eventActor(d.actor), userId: d.userId, role: d.role });
}

/**
 * The principal cache listens on every process: a revoked key and a changed member (with their
 * personal keys) are read again on the next request; after a resync (events may have been missed)
 * everything is. Returns the function that stops listening.
 */
export function watchIdentityEvents(ctx: Pick<IdentityContext, 'events' | 'cache'>): () => void {
  const off = [
    ctx.events.subscribe('key.revoked', (e) => ctx.cache.forgetApiKey(e.keyHash)),
    ctx.events.subscribe('member.changed', (e) => ctx.cache.forgetMembership(e.userId, e.orgId)),
    ctx.events.onResync(() => ctx.cache.clear()),
  ];
  return () => {
    for (const f of off) f();
  };
}
