export { actionRoutes } from './actions.routes.js';
export type { ActionsContext } from './actions.service.js';
export type { ActionTables } from './actions.repo.js';
export { actionErrors } from './actions.errors.js';
export { runAction, actionToolSpec } from './actions.service.js';
