import { defineErrors } from '../../platform/errors.js';

export const vaultErrors = defineErrors({
  VAULT_SECRET_NOT_FOUND: { status: 404, description: 'No secret with this id in this organization.' },
  VAULT_SECRET_NAME_TAKEN: { status: 409, description: 'A secret with this name exists already in this organization.' },
  VAULT_KEY_UNAVAILABLE: { status: 500, description: 'The master key that wraps this organization’s data key is not configured on this instance.' },
  VAULT_SECRET_HOSTS_REQUIRED: {
    status: 422,
    description: 'A generic secret must name the hosts it may be sent to (allowedHosts); [] for one that is never sent (a webhook signing secret).',
  },
  VAULT_SECRET_HOST_NOT_ALLOWED: {
    status: 403,
    description:
      'A request would carry a secret (or follow a redirect with it) to a host outside the secret’s allowed hosts; nothing was sent. An admin sets the hosts in the vault.',
  },
  VAULT_DECRYPT_FAILED: { status: 500, description: 'A secret could not be decrypted (wrong key or damaged ciphertext).' },
});
