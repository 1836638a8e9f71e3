export { Keyring } from './keyring.js';
export {
  createVaultContext,
  getSecret,
  revealSecret,
  sealForOrg,
  openForOrg,
  type SealedValue,
  rewrapAllDataKeys,
  maskHint,
  PROVIDERS,
  type VaultContext,
  type Provider,
  type RotationReport,
  type RevealedSecret,
} from './vault.service.js';
export { assertHostAllowed, defaultAllowedHosts, hostAllowed } from './vault.hosts.js';
export { secretUse, type SecretUse, type OutboundCall } from './secret-use.js';
export { vaultErrors } from './vault.errors.js';
export { vaultModule } from './vault.module.js';
