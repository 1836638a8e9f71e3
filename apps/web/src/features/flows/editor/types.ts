/** The flow API's shapes come from the shared contracts; the editor adds only what it derives. */
import type { FlowEdge, FlowNode } from '@infinity/contracts';

export type {
  Flow,
  FlowEdge,
  FlowNode,
  FlowNodeSettings as NodeSettings,
  GraphProblem,
  JsonSchema,
  NodeTypeInfo as NodeType,
  RefKind,
} from '@infinity/contracts';

/** The part of a flow the canvas edits (and undo/redo snapshots). */
export interface Graph {
  nodes: FlowNode[];
  edges: FlowEdge[];
}

/** The error port every node has besides its declared outputs. */
export const ERROR_PORT = 'error';
