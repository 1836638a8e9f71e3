/**
 * Flows and node types as they cross HTTP (SPEC §11): what `GET /api/v1/flows/{id}` answers and
 * `PUT` takes, and what `GET /api/v1/node-types` lists. The server's DTOs are checked against
 * these types; the web editor is written against them.
 */

/** A JSON Schema as node types publish their parameters (the parts the editor reads). */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  maxLength?: number;
  format?: string;
  additionalProperties?: boolean | JsonSchema;
  /** A reference to another object of the organization: the editor shows a picker. */
  'x-ref'?: RefKind;
}
export type RefKind = 'secret' | 'model' | 'flow' | 'agent' | 'action';

export interface NodeTypeInfo {
  type: string;
  version: number;
  kind: 'node' | 'trigger';
  title: string;
  description: string;
  category: string;
  inputs: string[];
  outputs: string[];
  control?: 'loop' | 'wait';
  params: JsonSchema;
  input?: JsonSchema;
}

export interface FlowNodeSettings {
  retries?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
  onError?: 'fail' | 'continue';
}

export interface FlowNode {
  id: string;
  type: string;
  typeVersion: number;
  name: string;
  position: { x: number; y: number };
  params: Record<string, unknown>;
  settings?: FlowNodeSettings;
  disabled?: boolean;
  pinned?: unknown;
}

export interface FlowEdge {
  id: string;
  source: string;
  sourceHandle: string;
  target: string;
  targetHandle: string;
}

export interface FlowSettings {
  timeoutMs?: number;
  maxSteps?: number;
  retentionDays?: number;
  errorFlowId?: string | null;
}

export interface PublishSettings {
  slug: string;
  access: 'public' | 'apiKey';
  storeConsumerData: boolean;
}

export interface Flow {
  id: string;
  name: string;
  description: string;
  nodes: FlowNode[];
  edges: FlowEdge[];
  settings: FlowSettings;
  version: number;
  active: boolean;
  publish: PublishSettings | null;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}

/** One problem of a graph (422 FLOW_INVALID `details`): by node or edge, and parameter path. */
export interface GraphProblem {
  code: string;
  message: string;
  nodeId?: string;
  edgeId?: string;
  field?: string;
}

export type ExecutionStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'canceled';

/** One node's run inside an execution (the trace). `output` is the emitted ports and their data. */
export interface NodeRun {
  nodeId: string;
  nodeName: string;
  nodeType: string;
  status: 'succeeded' | 'failed';
  input: unknown;
  output: unknown;
  error: unknown;
  /** Log lines the node wrote: { at, level, message }. */
  logs: unknown;
  attempts: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

export interface Execution {
  id: string;
  flowId: string;
  flowVersion: number;
  status: ExecutionStatus;
  trigger: string;
  input: unknown;
  output: unknown;
  error: unknown;
  parentId: string | null;
  steps: number;
  claims: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  createdAt: string;
}

/** `GET /api/v1/executions/{id}`: the execution with every node run. */
export interface ExecutionTrace extends Execution {
  nodes: NodeRun[];
}
