export { realtimeModule, type RealtimeModule } from './realtime.module.js';
export { realtimeErrors } from './realtime.errors.js';
export type { Hub } from './realtime.hub.js';
