/**
 * Wire contracts shared by the server and the web UI: shapes of what crosses HTTP.
 * Nothing here may import server code.
 */
export * from './roles.js';
export * from './envelopes.js';
export * from './flows.js';
export * from './models.js';
export * from './search.js';
export * from './names.js';
export * from './events.js';
export * from './webhooks.js';
