export {
  flowNodeSchema,
  flowEdgeSchema,
  flowSettingsSchema,
  graphProblems,
  compileGraph,
  descendants,
  type FlowGraph,
  type FlowNode,
  type FlowEdge,
  type FlowSettings,
  type GraphProblem,
  type CompiledGraph,
  type NodeLookup,
} from './graph.js';
export {
  executePlan,
  effectKey,
  PARK_AFTER_MS,
  type WaitState,
  type ExecutionPlan,
  type ExecutionResult,
  type ExecutorDeps,
  type NodeRunRecord,
  type Capabilities,
  type LogEntry,
} from './executor.js';
export { evaluate, resolveParams, containsExpression } from './expressions.js';
