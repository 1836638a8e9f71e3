export { Keyring } from './keyring.js';
export { createVaultContext, getSecret, revealSecret, rewrapAllDataKeys, maskHint, PROVIDERS, type VaultContext, type Provider, type RotationReport } from './vault.service.js';
export { vaultRoutes } from './vault.routes.js';
export { vaultErrors } from './vault.errors.js';
