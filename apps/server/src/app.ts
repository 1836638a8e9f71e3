import type { Kysely } from 'kysely';
import type { Config, InstanceKeys } from './config/index.js';
import { masterKeyFromBase64, readKeyFile } from './config/index.js';
import type { Database } from './platform/db/index.js';
import { EventBus } from './platform/events/index.js';
import { type App, createHttpServer } from './platform/http/index.js';
import type { Logger } from './platform/logger.js';
import { registerAccessGuard } from './modules/access/index.js';
import { auditRoutes } from './modules/audit/index.js';
import {
  type IdentityContext,
  type IdentityTables,
  LoginThrottle,
  PrincipalCache,
  apiKeyRoutes,
  authRoutes,
  createAuthenticator,
  flushKeyUses,
  jwtKeyFrom,
  orgRoutes,
} from './modules/identity/index.js';
import { adminRoutes, systemRoutes } from './modules/system/index.js';
import { Keyring, type VaultContext, createVaultContext, vaultRoutes } from './modules/vault/index.js';
import { ModelCache, type SchemaContext, type SchemaTables, schemaRoutes } from './modules/schema/index.js';
import { type RecordsContext, recordRoutes } from './modules/records/index.js';
import { type ActionTables, actionRoutes } from './modules/actions/index.js';
import { VERSION } from './version.js';

export interface AppDeps {
  config: Config;
  db: Database;
  keys: InstanceKeys;
  logger: Logger;
  /** Token the local CLI presents to /internal routes; unset = those routes refuse everyone. */
  instanceToken?: string;
  /** Serve the API (roles all and api); worker and scheduler processes serve health only. */
  api?: boolean;
}

export interface BuiltApp {
  app: App;
  identity: IdentityContext;
  vault: VaultContext;
  /** Domain events, published after commit (record.created, …). */
  events: EventBus;
  /** Marks the app as draining (readiness fails) before in-flight requests finish. */
  drain(): void;
  close(): Promise<void>;
}

/** The composition root: wires modules onto one HTTP server. It never listens (tests use inject()). */
export async function buildApp(deps: AppDeps): Promise<BuiltApp> {
  const { config, db, logger } = deps;
  const app = await createHttpServer({
    logger,
    bodyLimit: config.bodyLimit,
    corsOrigins: config.corsOrigins,
    trustProxy: config.trustProxy,
    publicUrl: config.publicUrl,
    version: VERSION,
  });

  const identity: IdentityContext = {
    db: db.kysely as Kysely<IdentityTables>,
    jwtKey: jwtKeyFrom(deps.keys.jwtSecret),
    auth: config.auth,
    publicUrl: config.publicUrl,
    cache: new PrincipalCache(),
    throttle: new LoginThrottle({ perEmail: config.auth.loginMaxFailures, perIp: config.auth.loginMaxFailuresPerIp, windowSeconds: config.auth.loginWindow }),
    keyUses: new Map(),
  };
  const embeddedKeyFile = config.database.kind === 'pglite' && !config.keys.masterKey && !config.keys.masterKeyFile;
  const keyring = new Keyring(deps.keys.all, () => {
    if (!embeddedKeyFile) return undefined;
    const file = readKeyFile(config.dataDir);
    return file?.masterKeys.map((b64, i) => masterKeyFromBase64(b64, `keys.json masterKeys[${i}]`));
  });
  const vault = createVaultContext(db.kysely, keyring);
  const events = new EventBus((err, event) => logger.error({ err, event: event.type }, 'event subscriber failed'));
  const schemaDb = db.kysely as Kysely<SchemaTables>;
  const schema: SchemaContext = { db: schemaDb, cache: new ModelCache(schemaDb) };

  registerAccessGuard(app, createAuthenticator(identity), deps.instanceToken);

  let draining = false;
  await app.register(systemRoutes({ db: db.kysely, info: db.info, draining: () => draining }));
  await app.register(adminRoutes({ config, db: db.kysely, vault }));
  if (deps.api !== false) {
    await app.register(authRoutes(identity));
    await app.register(orgRoutes(identity));
    await app.register(apiKeyRoutes(identity));
    await app.register(vaultRoutes(vault));
    await app.register(auditRoutes(db.kysely));
    await app.register(schemaRoutes(schema));
    const records: RecordsContext = { db: db.kysely, cache: schema.cache, events };
    await app.register(recordRoutes(records, { importLimit: config.importLimit }));
    await app.register(actionRoutes({ db: db.kysely as Kysely<ActionTables>, records }));
  }

  const flushUses = () => flushKeyUses(identity).catch((err: unknown) => logger.warn({ err }, 'could not record API key use'));
  const timer = setInterval(() => void flushUses(), 5000);
  timer.unref();

  await app.ready();
  return {
    app,
    identity,
    vault,
    events,
    drain: () => {
      draining = true;
    },
    close: async () => {
      clearInterval(timer);
      await app.close();
      await flushUses();
    },
  };
}
