import { ERROR_PORT, type FlowEdge, type Graph, type NodeType } from './types';

export interface Connection {
  source: string | null;
  sourceHandle: string | null;
  target: string | null;
  targetHandle: string | null;
}

/**
 * Whether a new edge may join two ports, and if not, why — the same rules the server checks on
 * save, applied while the user drags so a bad edge is never drawn: outputs (or the error port)
 * to inputs, nothing into a trigger, no self-loops, no duplicate edges, and no cycle except the
 * one that closes a loop body (into a loop node's "return" input).
 */
export function connectionProblem(c: Connection, graph: Graph, typeOf: (type: string) => NodeType | undefined): string | null {
  const src = graph.nodes.find((n) => n.id === c.source);
  const dst = graph.nodes.find((n) => n.id === c.target);
  if (!src || !dst) return 'Both ends must be nodes of this flow.';
  if (src.id === dst.id) return 'A node cannot connect to itself.';
  const sdef = typeOf(src.type);
  const tdef = typeOf(dst.type);
  if (!sdef || !tdef) return 'Unknown node type.';
  const out = c.sourceHandle ?? sdef.outputs[0] ?? 'main';
  const inp = c.targetHandle ?? tdef.inputs[0] ?? 'main';
  if (tdef.kind === 'trigger') return `${dst.name} is a trigger: nothing can lead into it.`;
  if (!sdef.outputs.includes(out) && out !== ERROR_PORT) return `${src.name} has no output "${out}".`;
  if (!tdef.inputs.includes(inp)) return `${dst.name} has no input "${inp}".`;
  if (graph.edges.some((e) => e.source === src.id && e.sourceHandle === out && e.target === dst.id && e.targetHandle === inp))
    return 'These ports are already connected.';
  const closesLoop = tdef.control === 'loop' && inp === 'return';
  if (!closesLoop && reaches(dst.id, src.id, graph, typeOf))
    return `That would make a cycle (${dst.name} already leads to ${src.name}); only a loop's "return" input may close one.`;
  return null;
}

/** Whether `from` leads to `to` along edges that are not loop back-edges. */
function reaches(from: string, to: string, graph: Graph, typeOf: (type: string) => NodeType | undefined): boolean {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const isBack = (e: FlowEdge) => e.targetHandle === 'return' && typeOf(byId.get(e.target)?.type ?? '')?.control === 'loop';
  const seen = new Set<string>();
  const todo = [from];
  while (todo.length) {
    const id = todo.pop()!;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const e of graph.edges) if (e.source === id && !isBack(e)) todo.push(e.target);
  }
  return false;
}
