import type { NodeDefinition } from '@infinity/node-sdk';
import { z } from 'zod';
import { containsExpression } from './expressions.js';

/** Flow graph shapes (React Flow compatible: nodes with position, edges with handles). */

const ident = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, _ . : - only');

export const nodeSettingsSchema = z.strictObject({
  retries: z.number().int().min(0).max(10).default(0).describe('extra attempts after a failure'),
  retryDelayMs: z.number().int().min(0).max(3_600_000).default(1000).describe('first backoff; doubles each attempt'),
  timeoutMs: z.number().int().min(1).max(3_600_000).optional().describe('per attempt'),
  onError: z
    .enum(['fail', 'continue'])
    .default('fail')
    .describe('continue: emit {error} on the main port instead of failing the run (an edge from the "error" port always wins)'),
});

export const flowNodeSchema = z.strictObject({
  id: ident,
  type: z.string().min(1).max(100),
  typeVersion: z.number().int().min(1).default(1),
  name: z.string().trim().min(1).max(100),
  position: z.strictObject({ x: z.number(), y: z.number() }).default({ x: 0, y: 0 }),
  params: z.record(z.string().max(100), z.unknown()).default({}),
  settings: nodeSettingsSchema.optional(),
  disabled: z.boolean().optional().describe('a disabled node passes its input through on its first output'),
  pinned: z.unknown().optional().describe('test data: used as the node’s main output in manual runs instead of executing it'),
});
export type FlowNode = z.output<typeof flowNodeSchema>;

export const flowEdgeSchema = z.strictObject({
  id: ident,
  source: ident,
  sourceHandle: z.string().min(1).max(64).default('main'),
  target: ident,
  targetHandle: z.string().min(1).max(64).default('main'),
});
export type FlowEdge = z.output<typeof flowEdgeSchema>;

export const flowSettingsSchema = z.strictObject({
  timeoutMs: z.number().int().min(1).max(86_400_000).default(300_000).describe('whole execution'),
  maxSteps: z.number().int().min(1).max(1_000_000).default(10_000).describe('node runs per execution'),
  retentionDays: z.number().int().min(1).max(3650).optional().describe('prune this flow’s executions older than this (default: server setting)'),
  errorFlowId: z.uuid().nullable().optional().describe('a flow run with {execution, error} when an execution fails'),
});
export type FlowSettings = z.output<typeof flowSettingsSchema>;

export interface FlowGraph {
  nodes: FlowNode[];
  edges: FlowEdge[];
  settings: FlowSettings;
}

/** The ports every node has besides its declared outputs: failures go out on `error` when it is wired. */
export const ERROR_PORT = 'error';

export interface GraphProblem {
  code:
    'unknown_node_type' | 'duplicate_id' | 'duplicate_name' | 'invalid_params' | 'unknown_node' | 'unknown_port' | 'edge_into_trigger' | 'cycle' | 'no_nodes';
  message: string;
  nodeId?: string;
  edgeId?: string;
  field?: string;
}

export type NodeLookup = (type: string) => NodeDefinition | undefined;

/** The body of a loop node: the nodes after its "item" port, run once per item. */
export interface LoopBody {
  graph: CompiledGraph;
  /** Body nodes fed by the loop's "item" port. */
  starts: string[];
  /** Edges from body nodes back into the loop's "return" input: what an item's run returns. */
  returns: FlowEdge[];
}

/** Indices over a graph, built once per flow version. */
export interface CompiledGraph {
  graph: FlowGraph;
  byId: Map<string, FlowNode>;
  /** Incoming edges, without loop back edges (those into a loop's "return" input). */
  incoming: Map<string, FlowEdge[]>;
  outgoing: Map<string, FlowEdge[]>;
  defs: Map<string, NodeDefinition>;
  /** Loop bodies by loop node id. */
  bodies: Map<string, LoopBody>;
  /** Nodes inside some loop body: they run only per item, never in the enclosing run. */
  inBody: Set<string>;
  /**
   * Parsed params of nodes whose params hold no expression (the same on every run), by node id,
   * filled on first use: a loop body's node runs once per item. Nodes must not mutate params.
   */
  staticParams: Map<string, Promise<unknown>>;
  /** Nodes whose params hold an expression: resolved and parsed on every run. */
  dynamicParams: Set<string>;
  /** Every node is pure (NodeDefinition.pure): a fast-path run is recorded once, at its end. */
  pure: boolean;
}

export const LOOP_ITEM_PORT = 'item';
export const LOOP_RETURN_INPUT = 'return';

/** An edge that closes a loop (into a loop node's "return" input): not a dependency. */
export const isBackEdge = (e: FlowEdge, byId: Map<string, FlowNode>, lookup: NodeLookup) =>
  e.targetHandle === LOOP_RETURN_INPUT && lookup(byId.get(e.target)?.type ?? '')?.control === 'loop';

export function compileGraph(graph: FlowGraph, lookup: NodeLookup): CompiledGraph {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const incoming = new Map<string, FlowEdge[]>(graph.nodes.map((n) => [n.id, []]));
  const outgoing = new Map<string, FlowEdge[]>(graph.nodes.map((n) => [n.id, []]));
  for (const e of graph.edges) {
    if (!isBackEdge(e, byId, lookup)) incoming.get(e.target)?.push(e);
    outgoing.get(e.source)?.push(e);
  }
  const defs = new Map<string, NodeDefinition>();
  for (const n of graph.nodes) {
    const d = lookup(n.type);
    if (d) defs.set(n.id, d);
  }
  const bodies = new Map<string, LoopBody>();
  const inBody = new Set<string>();
  for (const n of graph.nodes) {
    if (defs.get(n.id)?.control !== 'loop') continue;
    const starts = (outgoing.get(n.id) ?? []).filter((e) => e.sourceHandle === LOOP_ITEM_PORT).map((e) => e.target);
    const members = new Set<string>();
    const todo = [...starts];
    while (todo.length) {
      const id = todo.pop()!;
      if (id === n.id || members.has(id)) continue;
      members.add(id);
      for (const e of outgoing.get(id) ?? []) todo.push(e.target);
    }
    for (const m of members) inBody.add(m);
    const sub: FlowGraph = {
      nodes: graph.nodes.filter((x) => members.has(x.id)),
      edges: graph.edges.filter((e) => members.has(e.source) && members.has(e.target)),
      settings: graph.settings,
    };
    const returns = graph.edges.filter((e) => e.target === n.id && e.targetHandle === LOOP_RETURN_INPUT && members.has(e.source));
    bodies.set(n.id, { graph: compileGraph(sub, lookup), starts, returns });
  }
  const dynamicParams = new Set(graph.nodes.filter((n) => containsExpression(n.params)).map((n) => n.id));
  const pure = graph.nodes.every((n) => defs.get(n.id)?.pure === true);
  return { graph, byId, incoming, outgoing, defs, bodies, inBody, staticParams: new Map(), dynamicParams, pure };
}

/**
 * Every problem of a graph, so the editor can mark them all at once: unknown node types, duplicate
 * ids or names, parameters the node's schema refuses (values that are expressions are checked at
 * run time), edges to unknown nodes or ports, and cycles.
 */
export function graphProblems(graph: FlowGraph, lookup: NodeLookup): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const ids = new Set<string>();
  const names = new Set<string>();
  for (const n of graph.nodes) {
    if (ids.has(n.id)) problems.push({ code: 'duplicate_id', nodeId: n.id, message: `node id "${n.id}" is used twice` });
    ids.add(n.id);
    if (names.has(n.name))
      problems.push({ code: 'duplicate_name', nodeId: n.id, message: `node name "${n.name}" is used twice (expressions refer to nodes by name)` });
    names.add(n.name);
    const def = lookup(n.type);
    if (!def) {
      problems.push({ code: 'unknown_node_type', nodeId: n.id, field: 'type', message: `unknown node type "${n.type}"` });
      continue;
    }
    problems.push(...paramProblems(n, def));
  }
  const edgeIds = new Set<string>();
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  for (const e of graph.edges) {
    if (edgeIds.has(e.id)) problems.push({ code: 'duplicate_id', edgeId: e.id, message: `edge id "${e.id}" is used twice` });
    edgeIds.add(e.id);
    const src = byId.get(e.source);
    const dst = byId.get(e.target);
    if (!src) problems.push({ code: 'unknown_node', edgeId: e.id, field: 'source', message: `edge ${e.id} starts at unknown node "${e.source}"` });
    if (!dst) problems.push({ code: 'unknown_node', edgeId: e.id, field: 'target', message: `edge ${e.id} ends at unknown node "${e.target}"` });
    const sdef = src && lookup(src.type);
    const tdef = dst && lookup(dst.type);
    if (sdef && e.sourceHandle !== ERROR_PORT && !sdef.outputs.includes(e.sourceHandle)) {
      problems.push({
        code: 'unknown_port',
        edgeId: e.id,
        field: 'sourceHandle',
        message: `${src.name} has no output "${e.sourceHandle}" (outputs: ${[...sdef.outputs, ERROR_PORT].join(', ')})`,
      });
    }
    if (dst && tdef?.kind === 'trigger')
      problems.push({ code: 'edge_into_trigger', edgeId: e.id, message: `${dst.name} is a trigger: nothing can lead into it` });
    else if (tdef && !tdef.inputs.includes(e.targetHandle)) {
      problems.push({
        code: 'unknown_port',
        edgeId: e.id,
        field: 'targetHandle',
        message: `${dst.name} has no input "${e.targetHandle}" (inputs: ${tdef.inputs.join(', ')})`,
      });
    }
  }
  // A cycle is allowed only through a loop node's "return" input (that edge closes the loop).
  const cycle = findCycle({ ...graph, edges: graph.edges.filter((e) => !isBackEdge(e, byId, lookup)) });
  if (cycle) problems.push({ code: 'cycle', nodeId: cycle[0], message: `the graph has a cycle: ${cycle.map((id) => byId.get(id)?.name ?? id).join(' → ')}` });
  return problems;
}

function paramProblems(n: FlowNode, def: NodeDefinition): GraphProblem[] {
  // Expression values are only known at run time: leave them out of the static check.
  const dynamic = new Set(
    Object.entries(n.params)
      .filter(([, v]) => containsExpression(v))
      .map(([k]) => k),
  );
  const r = def.params.safeParse(n.params);
  if (r.success) return [];
  return r.error.issues
    .filter((i) => !(typeof i.path[0] === 'string' && dynamic.has(i.path[0])))
    .map((i) => ({
      code: 'invalid_params' as const,
      nodeId: n.id,
      field: i.path.join('.') || 'params',
      message: `${n.name}: ${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`,
    }));
}

/** A cycle as a list of node ids, or null. Iterative DFS (graphs may be large). */
export function findCycle(graph: FlowGraph): string[] | null {
  const next = new Map<string, string[]>();
  for (const e of graph.edges) next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
  const color = new Map<string, 1 | 2>();
  for (const start of graph.nodes.map((n) => n.id)) {
    if (color.has(start)) continue;
    const stack: { id: string; i: number }[] = [{ id: start, i: 0 }];
    color.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const succ = next.get(top.id) ?? [];
      if (top.i >= succ.length) {
        color.set(top.id, 2);
        stack.pop();
        continue;
      }
      const s = succ[top.i++]!;
      if (color.get(s) === 1) {
        const from = stack.findIndex((x) => x.id === s);
        return [...stack.slice(from).map((x) => x.id), s];
      }
      if (!color.has(s)) {
        color.set(s, 1);
        stack.push({ id: s, i: 0 });
      }
    }
  }
  return null;
}

/** Nodes reachable from `from` (itself included): what a re-run from a node executes again. */
export function descendants(g: CompiledGraph, from: string): Set<string> {
  const seen = new Set<string>([from]);
  const todo = [from];
  while (todo.length) {
    for (const e of g.outgoing.get(todo.pop()!) ?? []) {
      if (!seen.has(e.target)) {
        seen.add(e.target);
        todo.push(e.target);
      }
    }
  }
  return seen;
}
