import '@xyflow/react/dist/style.css';
import dagre from '@dagrejs/dagre';
import { Background, Controls, type Edge, Handle, type Node, type NodeProps, Position, ReactFlow } from '@xyflow/react';
import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link } from 'react-router';
import { api } from '../../lib/api';
import { useDark } from '../../lib/theme';
import { Empty, Page } from '../../components/ui';

interface DiagramData {
  nodes: { id: string; label: string; fields: { name: string; type: string; required: boolean; unique: boolean }[] }[];
  edges: { id: string; source: string; target: string; field: string; kind: string; onDelete: string; inverse: string | null }[];
}
type ModelNode = Node<DiagramData['nodes'][number], 'model'>;

const WIDTH = 220;
const ROW = 22;

function ModelCard({ data }: NodeProps<ModelNode>) {
  return (
    <div
      className="rounded-lg border border-zinc-300 bg-white text-xs text-zinc-900 shadow-sm dark:border-zinc-600 dark:bg-zinc-900 dark:text-zinc-100"
      style={{ width: WIDTH }}
      data-testid={`model-${data.id}`}
    >
      <Handle type="target" position={Position.Left} className="!bg-indigo-500" />
      <Link to={`/data/${data.id}`} className="block rounded-t-lg bg-indigo-600 px-3 py-1.5 text-sm font-semibold text-white">
        {data.label}
      </Link>
      <ul>
        {data.fields.map((f) => (
          <li
            key={f.name}
            className="flex justify-between gap-2 border-t border-zinc-100 px-3 dark:border-zinc-800"
            style={{ height: ROW, lineHeight: `${ROW}px` }}
          >
            <span className={f.required ? 'font-semibold' : ''}>
              {f.name}
              {f.unique ? ' ◆' : ''}
            </span>
            <span className="text-zinc-500 dark:text-zinc-400">{f.type}</span>
          </li>
        ))}
      </ul>
      <Handle type="source" position={Position.Right} className="!bg-indigo-500" />
    </div>
  );
}

const nodeTypes = { model: ModelCard };

/** Lays models out left to right along their relations (dagre), sized by their field count. */
export function layout(data: DiagramData): { nodes: ModelNode[]; edges: Edge[] } {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 260 });
  g.setDefaultEdgeLabel(() => ({}));
  const height = (n: DiagramData['nodes'][number]) => 32 + n.fields.length * ROW;
  for (const n of data.nodes) g.setNode(n.id, { width: WIDTH, height: height(n) });
  for (const e of data.edges) if (e.source !== e.target) g.setEdge(e.source, e.target);
  dagre.layout(g);
  return {
    nodes: data.nodes.map((n) => {
      const p: { x: number; y: number } = g.node(n.id) as { x: number; y: number };
      return { id: n.id, type: 'model', position: { x: p.x - WIDTH / 2, y: p.y - height(n) / 2 }, data: n, draggable: true };
    }),
    edges: data.edges.map((e) => ({
      id: e.id,
      source: e.source,
      target: e.target,
      label: `${e.field} (${e.kind === 'one-to-one' ? '1:1' : 'n:1'}, on delete ${e.onDelete})`,
      labelStyle: { fontSize: 11 },
      style: e.onDelete === 'cascade' ? { stroke: '#dc2626' } : undefined,
    })),
  };
}

/** The relationship diagram of every model of the organization. */
export function Diagram() {
  const diagram = useQuery({ queryKey: ['schema-diagram'], queryFn: () => api<{ data: DiagramData }>('GET', '/schema/diagram').then((r) => r.data) });
  const dark = useDark();
  const laid = useMemo(() => (diagram.data ? layout(diagram.data) : null), [diagram.data]);
  return (
    <Page title="Relationships">
      {diagram.isError && <p role="alert">{diagram.error.message}</p>}
      {laid && laid.nodes.length === 0 && <Empty>No models yet.</Empty>}
      {laid && laid.nodes.length > 0 && (
        <section className="h-[70vh] rounded-lg border border-zinc-200 dark:border-zinc-800" aria-label="Relationship diagram">
          <ReactFlow
            nodes={laid.nodes}
            edges={laid.edges}
            nodeTypes={nodeTypes}
            fitView
            nodesConnectable={false}
            proOptions={{ hideAttribution: true }}
            colorMode={dark ? 'dark' : 'light'}
          >
            <Background />
            <Controls showInteractive={false} />
          </ReactFlow>
        </section>
      )}
      <p className="text-xs text-zinc-600 dark:text-zinc-400">Bold: required · ◆ unique · red edges cascade on delete. Click a model to open its records.</p>
    </Page>
  );
}
