import type { Join } from '@infinity/node-sdk';
import { type CompiledGraph, ERROR_PORT } from './graph.js';

/**
 * The engine's state transitions, pure: no I/O, no clock, no randomness. The executor asks
 * `advance` which nodes to run, runs them, and feeds each outcome back through `complete`. The
 * same functions rebuild the state of a resumed execution from its stored node runs.
 *
 *   pending ──advance──▶ running ──complete(ok)──▶ succeeded ──▶ successors on emitted ports
 *      │                    └──complete(err)──▶ failed ──▶ "error" port, or main (continue), or the run fails
 *      └──(no incoming edge carried data)──▶ skipped ──▶ successors see a settled, empty edge
 */

export type NodeStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';

export interface NodeState {
  status: NodeStatus;
  /** Emitted ports and their data, once the node has finished. */
  ports: Record<string, unknown> | null;
}

export interface Failure {
  nodeId: string | null;
  code: string;
  message: string;
  details?: unknown;
}

export interface RunState {
  nodes: Record<string, NodeState>;
  /** Node ids in completion order. */
  order: string[];
  steps: number;
  failure: Failure | null;
}

export interface Step {
  nodeId: string;
  /** Data of the first active incoming edge (the trigger payload for a start node). */
  input: unknown;
  /** Data of every active incoming edge, in edge order. */
  inputs: unknown[];
}

export type Outcome = { ok: true; ports: Record<string, unknown> } | { ok: false; error: { code: string; message: string; details?: unknown } };

export interface StartOptions {
  /** Nodes the run starts at (a trigger, or every root for a manual run of a trigger-less flow). */
  start: string[];
  input: unknown;
  maxSteps: number;
  /** How a node with several incoming edges waits (from its definition and parameters). */
  joinOf: (nodeId: string) => Join;
  /** What the node does on failure when its error port is not wired. */
  onErrorOf: (nodeId: string) => 'fail' | 'continue';
}

export function initialState(g: CompiledGraph): RunState {
  const nodes: Record<string, NodeState> = {};
  for (const n of g.graph.nodes) nodes[n.id] = { status: 'pending', ports: null };
  return { nodes, order: [], steps: 0, failure: null };
}

const settled = (s: NodeStatus) => s === 'succeeded' || s === 'failed' || s === 'skipped';

/**
 * Decides what happens next: nodes whose incoming edges are all settled either run (at least one
 * carried data) or are skipped (none did), transitively. Returns the new state (those nodes marked
 * running or skipped) and the steps to run. Nothing runs once the execution has failed.
 */
export function advance(g: CompiledGraph, prev: RunState, opts: StartOptions): { state: RunState; run: Step[] } {
  const state: RunState = { ...prev, nodes: { ...prev.nodes } };
  const run: Step[] = [];
  if (state.failure) return { state, run };
  const starts = new Set(opts.start);
  let changed = true;
  while (changed) {
    changed = false;
    for (const n of g.graph.nodes) {
      const ns = state.nodes[n.id]!;
      if (ns.status !== 'pending') continue;
      if (g.inBody.has(n.id)) {
        // Loop bodies run per item inside their loop node, never in the enclosing run.
        state.nodes[n.id] = { status: 'skipped', ports: null };
        changed = true;
        continue;
      }
      const inc = g.incoming.get(n.id) ?? [];
      if (inc.length === 0) {
        if (starts.has(n.id)) run.push({ nodeId: n.id, input: opts.input, inputs: [opts.input] });
        state.nodes[n.id] = { status: starts.has(n.id) ? 'running' : 'skipped', ports: null };
        changed = true;
        continue;
      }
      const active: unknown[] = [];
      let allSettled = true;
      for (const e of inc) {
        const src = state.nodes[e.source];
        if (!src || !settled(src.status)) {
          allSettled = false;
          continue;
        }
        if (src.ports && Object.hasOwn(src.ports, e.sourceHandle)) active.push(src.ports[e.sourceHandle]);
      }
      const first = opts.joinOf(n.id) === 'first';
      if ((first && active.length > 0) || (allSettled && active.length > 0)) {
        if (state.steps + run.length >= opts.maxSteps) {
          state.failure = { nodeId: n.id, code: 'EXECUTION_MAX_STEPS', message: `The execution reached its limit of ${opts.maxSteps} node runs.` };
          return { state, run: [] };
        }
        run.push({ nodeId: n.id, input: active[0], inputs: active });
        state.nodes[n.id] = { status: 'running', ports: null };
        changed = true;
      } else if (allSettled) {
        state.nodes[n.id] = { status: 'skipped', ports: null };
        changed = true;
      }
    }
  }
  return { state, run };
}

/**
 * Records a node's outcome. A failure goes out on the node's `error` port when an edge is wired
 * to it; otherwise, with onError "continue", on its first output as `{ error }`; otherwise the
 * execution fails.
 */
export function complete(g: CompiledGraph, prev: RunState, nodeId: string, outcome: Outcome, opts: Pick<StartOptions, 'onErrorOf'>): RunState {
  const state: RunState = { ...prev, nodes: { ...prev.nodes }, order: [...prev.order, nodeId], steps: prev.steps + 1 };
  if (outcome.ok) {
    state.nodes[nodeId] = { status: 'succeeded', ports: outcome.ports };
    return state;
  }
  const errorWired = (g.outgoing.get(nodeId) ?? []).some((e) => e.sourceHandle === ERROR_PORT);
  if (errorWired) {
    state.nodes[nodeId] = { status: 'failed', ports: { [ERROR_PORT]: { error: outcome.error } } };
  } else if (opts.onErrorOf(nodeId) === 'continue') {
    const main = g.defs.get(nodeId)?.outputs[0] ?? 'main';
    state.nodes[nodeId] = { status: 'failed', ports: { [main]: { error: outcome.error } } };
  } else {
    state.nodes[nodeId] = { status: 'failed', ports: null };
    state.failure ??= { nodeId, ...outcome.error };
  }
  return state;
}

/** Exponential backoff before attempt `attempt + 1` (attempt counts from 1). */
export function retryDelay(baseMs: number, attempt: number): number {
  return Math.min(baseMs * 2 ** (attempt - 1), 3_600_000);
}

/**
 * What an execution returns: the data of the last respond/output node that ran; otherwise the
 * first output of the node that finished last among those with no outgoing edge.
 */
export function executionOutput(g: CompiledGraph, state: RunState): unknown {
  const firstPort = (id: string) => {
    const ports = state.nodes[id]?.ports;
    if (!ports) return undefined;
    const main = g.defs.get(id)?.outputs[0] ?? 'main';
    return Object.hasOwn(ports, main) ? ports[main] : Object.values(ports)[0];
  };
  for (let i = state.order.length - 1; i >= 0; i--) {
    const id = state.order[i]!;
    const type = g.byId.get(id)?.type;
    if (type === 'core.output' && state.nodes[id]?.status === 'succeeded') return firstPort(id);
    if (type === 'core.respond' && state.nodes[id]?.status === 'succeeded') return (firstPort(id) as { body?: unknown } | undefined)?.body ?? null;
  }
  for (let i = state.order.length - 1; i >= 0; i--) {
    const id = state.order[i]!;
    if ((g.outgoing.get(id) ?? []).length === 0 && state.nodes[id]?.ports) return firstPort(id);
  }
  return null;
}

/** Status and headers set by the last respond node that ran (for webhook answers), or null. */
export function executionResponse(g: CompiledGraph, state: RunState): { status: number; headers: Record<string, string> } | null {
  for (let i = state.order.length - 1; i >= 0; i--) {
    const id = state.order[i]!;
    if (g.byId.get(id)?.type !== 'core.respond' || state.nodes[id]?.status !== 'succeeded') continue;
    const main = state.nodes[id]?.ports?.main as { status?: number; headers?: Record<string, string> } | undefined;
    return { status: main?.status ?? 200, headers: main?.headers ?? {} };
  }
  return null;
}
