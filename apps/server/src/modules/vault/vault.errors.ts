import { defineErrors } from '../../platform/errors.js';

export const vaultErrors = defineErrors({
  VAULT_SECRET_NOT_FOUND: { status: 404, description: 'No secret with this id in this organization.' },
  VAULT_SECRET_NAME_TAKEN: { status: 409, description: 'A secret with this name exists already in this organization.' },
  VAULT_KEY_UNAVAILABLE: { status: 500, description: 'The master key that wraps this organization’s data key is not configured on this instance.' },
  VAULT_DECRYPT_FAILED: { status: 500, description: 'A secret could not be decrypted (wrong key or damaged ciphertext).' },
});
