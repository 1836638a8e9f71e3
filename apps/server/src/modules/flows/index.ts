export { flowRoutes } from './flows.routes.js';
export { hookRoutes } from './hooks.routes.js';
export { ExecutionRunner, type RunnerOptions } from './runner.js';
export { TriggerHub } from './triggers.js';
export type { FlowsContext } from './flows.service.js';
export type { FlowTables } from './flows.repo.js';
export { flowErrors } from './flows.errors.js';
export { runForAnswer } from './flows.service.js';
export { findFlowById } from './flows.repo.js';
