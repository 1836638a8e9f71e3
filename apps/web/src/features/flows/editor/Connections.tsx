import { useState } from 'react';
import { Button } from '../../../components/ui';
import { connectionProblem } from './rules';
import { ERROR_PORT, type FlowEdge, type Graph, type NodeType } from './types';

/**
 * The selected node's edges as a list, and a form to connect one of its outputs to another node's
 * input — the keyboard way to do what dragging between ports does, under the same rules.
 */
export function Connections({
  nodeId,
  graph,
  typeOf,
  readOnly,
  onConnect,
  onRemove,
}: {
  nodeId: string;
  graph: Graph;
  typeOf: (t: string) => NodeType | undefined;
  readOnly: boolean;
  onConnect: (e: Omit<FlowEdge, 'id'>) => string | null;
  onRemove: (edgeId: string) => void;
}) {
  const node = graph.nodes.find((n) => n.id === nodeId)!;
  const def = typeOf(node.type);
  const ports = [...(def?.outputs ?? []), ...(def?.kind === 'trigger' ? [] : [ERROR_PORT])];
  const [port, setPort] = useState(ports[0] ?? 'main');
  const [target, setTarget] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const nameOf = (id: string) => graph.nodes.find((n) => n.id === id)?.name ?? id;
  // Every input of every other node this port may lead to (the rules leave out the rest).
  const choices = graph.nodes
    .filter((n) => n.id !== nodeId)
    .flatMap((n) =>
      (typeOf(n.type)?.inputs ?? []).map((input) => ({
        value: `${n.id}\u0000${input}`,
        label: (typeOf(n.type)?.inputs.length ?? 0) > 1 ? `${n.name} (${input})` : n.name,
        ok: connectionProblem({ source: nodeId, sourceHandle: port, target: n.id, targetHandle: input }, graph, typeOf) === null,
      })),
    )
    .filter((c) => c.ok);
  const edges = graph.edges.filter((e) => e.source === nodeId || e.target === nodeId);
  const box = 'rounded-md border border-zinc-300 bg-white px-2 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';
  return (
    <details className="rounded-md border border-zinc-200 p-2 dark:border-zinc-800">
      <summary className="cursor-pointer font-semibold">Connections ({edges.length})</summary>
      <ul className="mt-2 flex flex-col gap-1">
        {edges.map((e) => (
          <li key={e.id} className="flex items-center justify-between gap-2">
            <span>{e.source === nodeId ? `${e.sourceHandle} → ${nameOf(e.target)}` : `${nameOf(e.source)} (${e.sourceHandle}) → ${e.targetHandle}`}</span>
            {!readOnly && (
              <Button variant="ghost" aria-label={`Remove connection ${nameOf(e.source)} to ${nameOf(e.target)}`} onClick={() => onRemove(e.id)}>
                ✕
              </Button>
            )}
          </li>
        ))}
      </ul>
      {!readOnly && ports.length > 0 && (
        <div className="mt-2 flex flex-wrap items-end gap-2">
          <label className="flex flex-col gap-1 text-xs">
            Output
            <select className={box} value={port} onChange={(e) => (setPort(e.target.value), setTarget(''))}>
              {ports.map((p) => (
                <option key={p}>{p}</option>
              ))}
            </select>
          </label>
          <label className="flex flex-col gap-1 text-xs">
            Connect to
            <select className={box} value={target} onChange={(e) => setTarget(e.target.value)}>
              <option value="">choose a node…</option>
              {choices.map((c) => (
                <option key={c.value} value={c.value}>
                  {c.label}
                </option>
              ))}
            </select>
          </label>
          <Button
            variant="secondary"
            disabled={!target}
            onClick={() => {
              const [t, input] = target.split('\u0000') as [string, string];
              setProblem(onConnect({ source: nodeId, sourceHandle: port, target: t, targetHandle: input }));
              setTarget('');
            }}
          >
            Connect
          </Button>
        </div>
      )}
      {problem && (
        <p role="alert" className="mt-1 text-xs text-red-700 dark:text-red-400">
          {problem}
        </p>
      )}
    </details>
  );
}
