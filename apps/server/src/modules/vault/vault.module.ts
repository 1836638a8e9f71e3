import { type Config, type InstanceKeys, masterKeyFromBase64, readKeyFile } from '../../config/index.js';
import type { Kysely } from '../../platform/db/index.js';
import type { AppModule } from '../../platform/module.js';
import { Keyring } from './keyring.js';
import { type VaultContext, createVaultContext } from './vault.service.js';
import { vaultRoutes } from './vault.routes.js';

export interface VaultNeeds {
  db: Kysely<object>;
  keys: InstanceKeys;
  config: Pick<Config, 'database' | 'keys' | 'dataDir'>;
}

/** Secrets, encrypted with data keys wrapped by the instance's master keys. */
export function vaultModule(n: VaultNeeds): AppModule & { context: VaultContext } {
  const { config } = n;
  // The embedded database keeps its generated master keys in keys.json: a key another process rotated in is reread from there.
  const embeddedKeyFile = config.database.kind === 'pglite' && !config.keys.masterKey && !config.keys.masterKeyFile;
  const keyring = new Keyring(n.keys.all, () => {
    if (!embeddedKeyFile) return undefined;
    const file = readKeyFile(config.dataDir);
    return file?.masterKeys.map((b64, i) => masterKeyFromBase64(b64, `keys.json masterKeys[${i}]`));
  });
  const context = createVaultContext(n.db, keyring);
  return { name: 'vault', context, routes: [vaultRoutes(context)], services: [] };
}
