import dagre from '@dagrejs/dagre';
import type { Graph } from './types';

const W = 200;
const H = 90;

/** Whether some nodes sit on top of each other (a flow written through the API without positions). */
export function overlapping(graph: Graph): boolean {
  const seen = new Set<string>();
  for (const n of graph.nodes) {
    const key = `${Math.round(n.position.x / 20)},${Math.round(n.position.y / 20)}`;
    if (seen.has(key)) return true;
    seen.add(key);
  }
  return false;
}

/** Left-to-right layout along the edges (dagre); loop back-edges do not pull nodes backwards. */
export function tidy(graph: Graph): Graph {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 50, ranksep: 80 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(n.id, { width: W, height: H });
  for (const e of graph.edges) if (e.targetHandle !== 'return') g.setEdge(e.source, e.target);
  dagre.layout(g);
  return {
    ...graph,
    nodes: graph.nodes.map((n) => {
      const p = g.node(n.id) as { x: number; y: number };
      return { ...n, position: { x: Math.round(p.x - W / 2), y: Math.round(p.y - H / 2) } };
    }),
  };
}
