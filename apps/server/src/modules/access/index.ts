export { PERMISSIONS, type Permission, can, assertCan } from './permissions.js';
export type { Actor, OrgActor, UserActor, ApiKeyActor, FlowActor, ServiceActor, SystemActor } from './actor.js';
export { isOrgActor, actorLabel, actorRef, actorUserId, eventActor, SYSTEM_ACTOR } from './actor.js';
export { registerAccessGuard, orgActorOf, userActorOf, rateLimitClass, type RouteAccess, type Authenticator, accessErrors } from './access.guard.js';
