/**
 * Executions as the realtime channels report them (`executions` for the list, `execution` for
 * the run the editor follows): pure functions folding one event into what a screen shows, so the
 * screens make no status requests while a run advances.
 */
import type { Execution, ExecutionTrace, NodeRun } from '@infinity/contracts';
import type { RealtimeEvent } from '../../lib/realtime';

/**
 * A node's run as the editor shows it: also `running` between its start and finish events, and
 * `waiting` for a wait node that has started (the run is parked until it finishes).
 */
export type LiveNodeRun = Omit<NodeRun, 'status'> & { status: NodeRun['status'] | 'running' | 'waiting' | 'skipped' };

const WAIT = 'core.wait';
/** An execution being followed: the trace, with live node runs. */
export type LiveExecution = Omit<ExecutionTrace, 'nodes'> & { nodes: LiveNodeRun[] };

interface ExecutionEventData {
  executionId?: string;
  flowId?: string;
  trigger?: string;
  nodeId?: string;
  nodeType?: string;
  item?: number;
  status?: 'succeeded' | 'failed' | 'skipped';
  durationMs?: number;
  outputSummary?: unknown;
  error?: { code: string; message: string; nodeId?: string };
  logs?: { level: string; message: string; at: string }[];
}

export const isFinishEvent = (e: RealtimeEvent) => e.event === 'execution.succeeded' || e.event === 'execution.failed';

/** A row for an execution first seen through its `execution.queued` event. */
function queuedRow(d: ExecutionEventData, at: string): Execution {
  return {
    id: d.executionId ?? '',
    flowId: d.flowId ?? '',
    flowVersion: 0,
    status: 'queued',
    trigger: d.trigger ?? '',
    input: null,
    output: null,
    error: null,
    parentId: null,
    steps: 0,
    claims: 0,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    createdAt: at,
  };
}

/** One execution row changed by an event (status, steps, duration); unchanged when the event is not about it. */
function applyToRow<T extends Execution>(row: T, e: RealtimeEvent): T {
  const d = e.data as ExecutionEventData;
  switch (e.event) {
    case 'execution.node.started': {
      // A wait node that starts parks the run until it is resumed (or its time comes).
      const status = d.nodeType === WAIT ? 'waiting' : row.status === 'queued' || row.status === 'waiting' ? 'running' : row.status;
      return status === row.status ? row : { ...row, status, startedAt: row.startedAt ?? e.at };
    }
    case 'execution.node.finished':
      return { ...row, steps: row.steps + 1, status: row.status === 'queued' || row.status === 'waiting' ? 'running' : row.status };
    case 'execution.succeeded':
    case 'execution.failed':
      return {
        ...row,
        status: e.event === 'execution.succeeded' ? 'succeeded' : 'failed',
        durationMs: d.durationMs ?? row.durationMs,
        finishedAt: e.at,
        ...(d.error ? { error: d.error } : {}),
      };
    default:
      return row;
  }
}

/**
 * The executions list with one event applied: a queued execution comes in on top (when the list
 * shows that status), the others update their row in place.
 */
export function applyExecutionEvent(rows: Execution[], e: RealtimeEvent, filter: { status?: string } = {}): Execution[] {
  const d = e.data as ExecutionEventData;
  const i = rows.findIndex((r) => r.id === d.executionId);
  if (i < 0) {
    if (e.event !== 'execution.queued' || (filter.status && filter.status !== 'queued')) return rows;
    return [queuedRow(d, e.at), ...rows];
  }
  const next = applyToRow(rows[i]!, e);
  return next === rows[i] ? rows : rows.map((r, j) => (j === i ? next : r));
}

/**
 * The followed run with one event of its `execution` channel applied: a node starts (`running`),
 * finishes (status, duration, output summary, log lines) — by loop item when in a loop — and the
 * run ends. Applying an event twice changes nothing more (the first answer of GET and the events
 * received meanwhile may overlap).
 */
export function applyRunEvent(ex: LiveExecution, e: RealtimeEvent, nameOf: (nodeId: string) => string): LiveExecution {
  const d = e.data as ExecutionEventData;
  if (d.executionId && d.executionId !== ex.id) return ex;
  const nodeId = d.nodeId ?? '';
  // The entry this event is about: the node's run for that loop item (or its only run).
  const at = ex.nodes.findLastIndex((n) => n.nodeId === nodeId && (d.item === undefined || (n as { item?: number }).item === d.item));
  switch (e.event) {
    case 'execution.node.started': {
      if (at >= 0) return { ...applyToRow(ex, e) };
      const run: LiveNodeRun & { item?: number } = {
        nodeId,
        nodeName: nameOf(nodeId),
        nodeType: d.nodeType ?? '',
        status: d.nodeType === WAIT ? 'waiting' : 'running',
        input: null,
        output: null,
        error: null,
        logs: [],
        attempts: 1,
        startedAt: e.at,
        finishedAt: '',
        durationMs: 0,
        ...(d.item !== undefined ? { item: d.item } : {}),
      };
      return { ...applyToRow(ex, e), nodes: [...ex.nodes, run] };
    }
    case 'execution.node.finished': {
      const base = at >= 0 ? ex.nodes[at]! : undefined;
      if (base && base.status !== 'running' && base.status !== 'waiting') return ex;
      const done: LiveNodeRun = {
        ...(base ?? {
          nodeId,
          nodeName: nameOf(nodeId),
          nodeType: d.nodeType ?? '',
          input: null,
          attempts: 1,
          startedAt: e.at,
          ...(d.item !== undefined ? { item: d.item } : {}),
        }),
        status: d.status ?? 'succeeded',
        output: d.outputSummary ?? null,
        error: d.error ?? null,
        logs: d.logs ?? [],
        finishedAt: e.at,
        durationMs: d.durationMs ?? 0,
      };
      const nodes = base ? ex.nodes.map((n, j) => (j === at ? done : n)) : [...ex.nodes, done];
      return { ...applyToRow(ex, e), nodes };
    }
    case 'execution.succeeded':
    case 'execution.failed':
      return applyToRow(ex, e);
    default:
      return ex;
  }
}

/** Just what the editor's graph is needed for here: node types and the edges between them. */
interface GraphShape {
  nodes: { id: string; name: string; type: string }[];
  edges: { source: string; target: string }[];
}

/**
 * The wait nodes a parked run is waiting at, for a trace read while it waits (a trace lists only
 * finished node runs): a wait node without a run whose inputs all come from nodes that succeeded.
 */
function waitingAt(ex: LiveExecution, graph: GraphShape): LiveNodeRun[] {
  const done = new Set(ex.nodes.filter((n) => n.status === 'succeeded').map((n) => n.nodeId));
  const seen = new Set(ex.nodes.map((n) => n.nodeId));
  return graph.nodes
    .filter((n) => n.type === WAIT && !seen.has(n.id))
    .filter((n) => {
      const from = graph.edges.filter((e) => e.target === n.id).map((e) => e.source);
      return from.length > 0 && from.every((id) => done.has(id));
    })
    .map((n) => ({
      nodeId: n.id,
      nodeName: n.name,
      nodeType: n.type,
      status: 'waiting',
      input: null,
      output: null,
      error: null,
      logs: [],
      attempts: 1,
      startedAt: '',
      finishedAt: '',
      durationMs: 0,
    }));
}

/**
 * The answer of GET (the run as it was when the subscription began, or after the live connection
 * was down) with what the events already showed: nodes the events saw start after that answer was
 * read stay listed as running; a run read while parked shows the wait node it waits at.
 */
export function mergeSnapshot(snapshot: LiveExecution, current: LiveExecution | null, graph: GraphShape): LiveExecution {
  const parked = snapshot.status === 'waiting' ? waitingAt(snapshot, graph) : [];
  const base = { ...snapshot, nodes: [...snapshot.nodes, ...parked] };
  if (!current || current.id !== snapshot.id) return base;
  const known = new Set(base.nodes.map((n) => n.nodeId));
  const extra = current.nodes.filter((n) => !known.has(n.nodeId));
  const finished = current.status === 'succeeded' || current.status === 'failed';
  // The answer was read before the run parked, and the events saw the park: it waits.
  const parkedSince = base.status === 'running' && current.status === 'waiting' && extra.some((n) => n.status === 'waiting');
  return {
    ...base,
    ...(finished ? { status: current.status, durationMs: current.durationMs } : parkedSince ? { status: 'waiting' as const } : {}),
    nodes: [...base.nodes, ...extra],
  };
}
