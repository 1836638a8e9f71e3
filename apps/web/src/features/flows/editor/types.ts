/** Shapes of the flow API as the editor uses them (SPEC §11, GET /api/v1/node-types). */
export type JsonSchema = {
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
  format?: string;
  additionalProperties?: boolean | JsonSchema;
  'x-ref'?: RefKind;
};
export type RefKind = 'secret' | 'model' | 'flow' | 'agent' | 'action';

export interface NodeType {
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
}

export interface NodeSettings {
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
  settings?: NodeSettings;
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

export interface Graph {
  nodes: FlowNode[];
  edges: FlowEdge[];
}

export interface Flow extends Graph {
  id: string;
  name: string;
  description: string;
  settings: Record<string, unknown>;
  version: number;
  active: boolean;
  publish: { slug: string; access: 'public' | 'apiKey'; storeConsumerData: boolean } | null;
  updatedAt: string;
}

/** One problem the server found in the graph (422 FLOW_INVALID details). */
export interface GraphProblem {
  code: string;
  message: string;
  nodeId?: string;
  edgeId?: string;
  field?: string;
}

/** The error port every node has besides its declared outputs. */
export const ERROR_PORT = 'error';
