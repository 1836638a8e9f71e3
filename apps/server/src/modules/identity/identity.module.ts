import type { Config } from '../../config/index.js';
import type { Kysely, TablesOf } from '../../platform/db/index.js';
import type { EventSpine } from '../../platform/events/index.js';
import type { Logger } from '../../platform/logger.js';
import type { AppModule } from '../../platform/module.js';
import type { Authenticator } from '../access/index.js';
import { apiKeyRoutes } from './api-keys.routes.js';
import { flushKeyUses } from './api-keys.service.js';
import { authRoutes } from './auth.routes.js';
import { createAuthenticator } from './authenticator.js';
import type { IdentityContext } from './identity.context.js';
import type { IdentityTables } from './identity.tables.js';
import { LoginThrottle } from './login-throttle.js';
import { orgRoutes } from './orgs.routes.js';
import { watchIdentityEvents } from './identity.events.js';
import { PrincipalCache } from './principal-cache.js';
import { jwtKeyFrom } from './tokens.js';

export interface IdentityNeeds {
  db: Kysely<object>;
  jwtSecret: Uint8Array;
  auth: Config['auth'];
  publicUrl: string;
  defaultPlan: string;
  logger: Logger;
  events: EventSpine;
}

export interface IdentityModule extends AppModule {
  context: IdentityContext;
  /** Who a request is (session, API key), for the access guard. */
  authenticate: Authenticator;
}

/** Users, organizations, sessions and API keys. */
export function identityModule(n: IdentityNeeds): IdentityModule {
  const context: IdentityContext = {
    db: n.db.withTables<TablesOf<IdentityTables>>(),
    jwtKey: jwtKeyFrom(n.jwtSecret),
    auth: n.auth,
    publicUrl: n.publicUrl,
    defaultPlan: n.defaultPlan,
    cache: new PrincipalCache(n.auth.cacheTtlMs),
    events: n.events,
    throttle: new LoginThrottle({ perEmail: n.auth.loginMaxFailures, perIp: n.auth.loginMaxFailuresPerIp, windowSeconds: n.auth.loginWindow }),
    keyUses: new Map(),
  };
  // Every process forgets revoked keys and changed members when the event arrives (from any process).
  watchIdentityEvents(context);
  const flushUses = () => flushKeyUses(context).catch((err: unknown) => n.logger.warn({ err }, 'could not record API key use'));
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'identity',
    context,
    authenticate: createAuthenticator(context),
    routes: [authRoutes(context), orgRoutes(context), apiKeyRoutes(context)],
    services: [
      {
        // API keys' last-use times are written every 5 s off the request path, and once more on stop.
        name: 'api-key uses',
        start: () => {
          timer = setInterval(() => void flushUses(), 5000);
          timer.unref();
        },
        stop: async () => {
          clearInterval(timer);
          await flushUses();
        },
      },
    ],
  };
}
