export type { ActionsContext } from './actions.service.js';
export { actionErrors } from './actions.errors.js';
export { runAction, actionToolSpec, listActions } from './actions.service.js';
export { actionsModule } from './actions.module.js';
