import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { EventSpine } from '../../platform/events/index.js';
import type { LoginThrottle } from './login-throttle.js';
import type { PrincipalCache } from './principal-cache.js';
import type { IdentityTables } from './identity.tables.js';

/** What the identity services need; built once in app.ts. */
export interface IdentityContext {
  db: Kysely<IdentityTables>;
  jwtKey: KeyObject;
  auth: {
    accessTokenTtl: number;
    refreshTokenTtl: number;
    invitationTtl: number;
    cookieSecure: boolean;
  };
  publicUrl: string;
  /** Plan of new organizations. */
  defaultPlan: string;
  cache: PrincipalCache;
  /** Identity changes are events (key.revoked, member.changed): every process's cache listens. */
  events: EventSpine;
  throttle: LoginThrottle;
  /** Last-use times of API keys, flushed in batches off the request path. */
  keyUses: Map<string, Date>;
}
