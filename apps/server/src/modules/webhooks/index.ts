export { webhooksModule, type WebhooksHandle } from './webhooks.module.js';
export { RETRY_DELAYS_MS, MAX_ATTEMPTS, type Clock } from './webhooks.sender.js';
export { webhookErrors } from './webhooks.errors.js';
export { webhooksOpenApi } from './webhooks.openapi.js';
