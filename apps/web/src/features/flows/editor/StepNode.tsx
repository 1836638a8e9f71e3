import { Handle, type Node, type NodeProps, Position } from '@xyflow/react';
import { memo } from 'react';
import { ERROR_PORT, type FlowNode, type NodeType } from './types';

export interface StepData extends Record<string, unknown> {
  node: FlowNode;
  def: NodeType | undefined;
  /** Status of this node in the run being watched (succeeded, failed, running, skipped…). */
  status: string | undefined;
  problems: string[];
}
export type StepNodeType = Node<StepData, 'step'>;

const CATEGORY_COLOR: Record<string, string> = {
  trigger: 'bg-amber-500',
  flow: 'bg-sky-600',
  logic: 'bg-fuchsia-600',
  transform: 'bg-emerald-600',
  data: 'bg-indigo-600',
  http: 'bg-cyan-700',
  ai: 'bg-violet-600',
  integration: 'bg-rose-600',
};

const STATUS: Record<string, { mark: string; cls: string }> = {
  succeeded: { mark: '✓', cls: 'bg-emerald-600 text-white' },
  failed: { mark: '✕', cls: 'bg-red-600 text-white' },
  running: { mark: '…', cls: 'bg-sky-600 text-white' },
  waiting: { mark: '⏸', cls: 'bg-amber-500 text-white' },
  skipped: { mark: '–', cls: 'bg-zinc-400 text-white' },
};

/** A node on the canvas: its name and type, one handle per input and output port, an error port, run status and problems. */
function StepNodeView({ data, selected }: NodeProps<StepNodeType>) {
  const { node, def, status, problems } = data;
  const outputs = def?.outputs ?? ['main'];
  const inputs = def?.inputs ?? [];
  const st = status ? STATUS[status] : undefined;
  const ring = problems.length ? 'ring-2 ring-red-600' : selected ? 'ring-2 ring-indigo-500' : '';
  return (
    <div
      className={`relative min-w-44 rounded-lg border border-zinc-300 bg-white text-zinc-900 shadow-sm dark:border-zinc-600 dark:bg-zinc-900 dark:text-zinc-100 ${ring} ${node.disabled ? 'opacity-50' : ''}`}
      data-testid={`node-${node.name}`}
      data-status={status ?? ''}
      title={problems.join('\n') || def?.description}
    >
      <div
        className={`flex items-center gap-2 rounded-t-lg px-2 py-1 text-[11px] font-semibold uppercase tracking-wide text-white ${CATEGORY_COLOR[def?.category ?? ''] ?? 'bg-zinc-500'}`}
      >
        <span className="truncate">{def?.title ?? node.type}</span>
        {node.pinned !== undefined && <span title="pinned test data">📌</span>}
      </div>
      <div className="px-3 py-2 text-sm font-medium">{node.name}</div>
      {problems.length > 0 && (
        <div className="max-w-56 px-3 pb-2 text-[11px] text-red-700 dark:text-red-400" data-testid="node-problems">
          {problems[0]}
          {problems.length > 1 ? ` (+${problems.length - 1})` : ''}
        </div>
      )}
      {st && (
        <span className={`absolute -top-2 -right-2 flex h-5 w-5 items-center justify-center rounded-full text-xs ${st.cls}`} aria-label={status}>
          {st.mark}
        </span>
      )}
      {inputs.map((h, i) => (
        <Handle
          key={h}
          type="target"
          id={h}
          position={Position.Left}
          style={{ top: `${((i + 1) * 100) / (inputs.length + 1)}%` }}
          className="!h-3 !w-3 !bg-zinc-500"
        >
          {inputs.length > 1 && <span className="pointer-events-none absolute left-3 -top-1.5 text-[10px] text-zinc-600 dark:text-zinc-300">{h}</span>}
        </Handle>
      ))}
      {outputs.map((h, i) => (
        <Handle
          key={h}
          type="source"
          id={h}
          position={Position.Right}
          style={{ top: `${((i + 1) * 100) / (outputs.length + 1)}%` }}
          className="!h-3 !w-3 !bg-indigo-500"
        >
          {(outputs.length > 1 || h !== 'main') && (
            <span className="pointer-events-none absolute right-3 -top-1.5 text-[10px] text-zinc-600 dark:text-zinc-300">{h}</span>
          )}
        </Handle>
      ))}
      {def?.kind !== 'trigger' && (
        <Handle type="source" id={ERROR_PORT} position={Position.Bottom} className="!h-2.5 !w-2.5 !bg-red-500" title="error port: where a failure goes">
          <span className="pointer-events-none absolute top-2 left-2 text-[10px] text-red-700 dark:text-red-400">error</span>
        </Handle>
      )}
    </div>
  );
}

export const StepNode = memo(StepNodeView);
