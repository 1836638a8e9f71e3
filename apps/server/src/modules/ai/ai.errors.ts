import { defineErrors } from '../../platform/errors.js';

export const aiErrors = defineErrors({
  AI_PROVIDER_ERROR: { status: 502, description: 'The model provider refused or failed the call; the message gives its status and reason (never the key).' },
  AI_PROVIDER_UNSUPPORTED: { status: 422, description: 'The secret’s provider cannot serve this kind of call (for example embeddings from Anthropic).' },
  AI_BASE_URL_REFUSED: {
    status: 422,
    description: 'The provider base URL is a private or loopback address the operator has not allowed (INFINITY_HTTP_ALLOW).',
  },
  EMBEDDING_SETTINGS_INVALID: {
    status: 422,
    description: 'The embedding settings name unknown or non-text source fields, or a provider that needs a secret without one.',
  },
});
