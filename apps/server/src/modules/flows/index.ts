export { ExecutionRunner, type RunnerOptions } from './runner.js';
export { flowErrors } from './flows.errors.js';
export { pruneExecutions } from './executions.repo.js';
export { flowsModule } from './flows.module.js';
export type { TriggerHub } from './triggers.js';
export { runFlowAsActor, toExecution, listFlows, type FlowsContext } from './flows.service.js';
