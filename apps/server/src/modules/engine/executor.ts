import { NodeError, type NodeContext, type NodeDefinition } from '@infinity/node-sdk';
import { ZodError } from 'zod';
import { AppError } from '../../platform/errors.js';
import { type Scope, evaluate, resolveParams } from './expressions.js';
import { type CompiledGraph, type FlowNode, LOOP_ITEM_PORT } from './graph.js';
import {
  type Failure,
  type NodeStatus,
  type Outcome,
  type RunState,
  type StartOptions,
  type Step,
  advance,
  complete,
  executionOutput,
  executionResponse,
  initialState,
  retryDelay,
} from './state.js';

/**
 * The thin, effectful half of the engine: asks the pure state machine (state.ts) what to run,
 * runs those nodes concurrently, stores each finished node before its successors start (so a
 * resumed execution continues from the last completed node), and feeds outcomes back.
 */

export interface LogEntry {
  at: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  data?: Record<string, unknown>;
}

/** A finished node run as stored: what the trace shows and what a resume replays. */
export interface NodeRunRecord {
  nodeId: string;
  nodeName: string;
  nodeType: string;
  status: Extract<NodeStatus, 'succeeded' | 'failed'>;
  ports: Record<string, unknown> | null;
  input: unknown;
  error: { code: string; message: string; details?: unknown } | null;
  logs: LogEntry[];
  attempts: number;
  startedAt: Date;
  finishedAt: Date;
}

export interface ExecutionPlan {
  id: string;
  orgId: string;
  flowId: string;
  trigger: string;
  graph: CompiledGraph;
  /** Nodes the run starts at. */
  start: string[];
  input: unknown;
  /** Manual and re-runs use nodes' pinned data instead of executing them. */
  usePins: boolean;
  /** Node runs already stored (a resumed or re-run execution). */
  prior: Pick<NodeRunRecord, 'nodeId' | 'status' | 'ports'>[];
  /** URL that resumes a wait node of this execution (`$execution.resumeUrl`). */
  resumeUrl?: string;
  /** Checkpointed loop items of a resumed execution: result by `loopNodeId:itemPath` (see ExecutorDeps.saveLoopItem). */
  priorItems?: Map<string, unknown>;
}

/** A loop whose items do no I/O lets other work run at least this often. */
const YIELD_EVERY_MS = 10;

/** Waits shorter than this are slept in-process; longer ones park the execution. */
export const PARK_AFTER_MS = 5000;

export interface WaitState {
  nodeId: string;
  input: unknown;
  resumeAt: string;
  webhook: boolean;
}

export type Capabilities = Pick<NodeContext, 'records' | 'actions' | 'secrets' | 'http' | 'flows' | 'ai'> & {
  /** Masks the secret values this execution used: applied to every node run and result before it is stored or returned. */
  redact?: <T>(value: T) => T;
};

export interface ExecutorDeps {
  capabilities: (plan: ExecutionPlan) => Capabilities;
  /** Persists a finished node; false when this process no longer owns the execution (stop). */
  saveNodeRun: (plan: ExecutionPlan, run: NodeRunRecord) => Promise<boolean>;
  /**
   * Checkpoints one completed item of a loop whose body has effects (a body that is not pure):
   * a resumed execution skips the items stored here and continues after them. `item` is the
   * item's path (`3`, or `3.7` for item 7 of a loop inside item 3 of another). False: this
   * process no longer owns the execution (stop). Absent: no checkpoints (tests, pure runs).
   */
  saveLoopItem?: (plan: ExecutionPlan, loopId: string, item: string, result: unknown) => Promise<boolean>;
  /** Told as each node of the run (not of a loop body) starts; it must not throw or block (events). */
  onNodeStart?: (plan: ExecutionPlan, node: Pick<FlowNode, 'id' | 'type'>) => void;
  now?: () => Date;
}

export interface ExecutionResult {
  status: 'succeeded' | 'failed' | 'canceled' | 'lost' | 'waiting';
  /** Set with status waiting: the node the execution is parked at, and until when. */
  wait?: WaitState;
  output: unknown;
  error: Failure | null;
  steps: number;
  /** Status and headers of the respond node that answered, if any. */
  response?: { status: number; headers: Record<string, string> } | null;
}

function toError(err: unknown): { code: string; message: string; details?: unknown; retryable: boolean } {
  if (err instanceof NodeError)
    return { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }), retryable: err.retryable };
  if (err instanceof AppError) {
    const said = (err.details as { retryable?: unknown } | undefined)?.retryable;
    return {
      code: err.code,
      message: err.message,
      ...(err.details === undefined ? {} : { details: err.details }),
      retryable: typeof said === 'boolean' ? said : err.status >= 500 || err.status === 429,
    };
  }
  if (err instanceof ZodError)
    return {
      code: 'NODE_PARAMS_INVALID',
      message: `Invalid parameters: ${err.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ')}`,
      details: err.issues.map((i) => ({ field: i.path.join('.'), message: i.message })),
      retryable: false,
    };
  if (err instanceof Error && err.name === 'AbortError') return { code: 'NODE_ABORTED', message: 'The node was aborted.', retryable: false };
  return { code: 'NODE_FAILED', message: err instanceof Error ? err.message : String(err), retryable: true };
}

const abortable = <T>(p: Promise<T>, signal: AbortSignal): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });

const sleep = (ms: number, signal: AbortSignal) => abortable(new Promise<void>((r) => setTimeout(r, ms).unref()), signal);

export function startOptions(plan: ExecutionPlan, maxSteps: number): StartOptions {
  const g = plan.graph;
  return {
    start: plan.start,
    input: plan.input,
    maxSteps,
    joinOf: (id) => {
      const def = g.defs.get(id);
      const node = g.byId.get(id);
      if (!def?.join || !node) return 'all';
      const r = def.params.safeParse(node.params);
      return r.success ? def.join(r.data) : 'all';
    },
    onErrorOf: (id) => g.byId.get(id)?.settings?.onError ?? 'fail',
  };
}

export function replay(plan: ExecutionPlan, opts: StartOptions): RunState {
  let state = initialState(plan.graph);
  for (const r of plan.prior) {
    if (!state.nodes[r.nodeId]) continue;
    state = {
      ...state,
      nodes: { ...state.nodes, [r.nodeId]: { status: r.status, ports: r.ports } },
      order: [...state.order, r.nodeId],
      steps: state.steps + 1,
    };
    if (r.status === 'failed' && !r.ports)
      state = complete(plan.graph, state, r.nodeId, { ok: false, error: { code: 'NODE_FAILED', message: 'failed before the resume' } }, opts);
  }
  return state;
}

function nodeScope(g: CompiledGraph, state: RunState): Scope['$node'] {
  const out: Scope['$node'] = {};
  for (const id of state.order) {
    const n = g.byId.get(id);
    const ports = state.nodes[id]?.ports;
    if (!n || !ports) continue;
    const main = g.defs.get(id)?.outputs[0] ?? 'main';
    out[n.name] = { output: Object.hasOwn(ports, main) ? ports[main] : Object.values(ports)[0], ports };
  }
  return out;
}

/**
 * The scope a node's expressions see. `$node` (every earlier node's output by name) is built on
 * first read: most nodes never read it, and a loop body runs once per item.
 */
function nodeRunScope(g: CompiledGraph, step: Step, snapshot: RunState, outer: Scope['$node'], plan: ExecutionPlan): Scope {
  let nodes: Scope['$node'] | undefined;
  return {
    $input: step.input,
    get $node() {
      return (nodes ??= { ...outer, ...nodeScope(g, snapshot) });
    },
    $execution: { id: plan.id, flowId: plan.flowId, trigger: plan.trigger, ...(plan.resumeUrl ? { resumeUrl: plan.resumeUrl } : {}) },
  };
}

/** A node's parsed params: once per compiled graph when they hold no expression, else per run. */
async function paramsFor(g: CompiledGraph, def: NodeDefinition, node: FlowNode, scope: Scope): Promise<unknown> {
  if (g.dynamicParams.has(node.id)) return def.params.parseAsync(await resolveParams(node.params, scope));
  let p = g.staticParams.get(node.id);
  if (!p) {
    p = def.params.parseAsync(node.params);
    // A failed parse is not kept: the error is the run's, and the next run parses again.
    p.catch(() => g.staticParams.delete(node.id));
    g.staticParams.set(node.id, p);
  }
  return p;
}

interface Env {
  plan: ExecutionPlan;
  caps: Capabilities;
  now: () => Date;
  signal: AbortSignal;
  saveLoopItem: ExecutorDeps['saveLoopItem'];
  onNodeStart: ExecutorDeps['onNodeStart'];
  /** Set when a loop checkpoint could not be written (the lease was lost): every loop stops. */
  lost: boolean;
}

/**
 * The idempotency key of a node's effects: stable across attempts and resumes, distinct per loop
 * item (`executionId:nodeId` outside loops, `executionId:nodeId:itemPath` inside one).
 */
export const effectKey = (executionId: string, nodeId: string, item: string) => (item ? `${executionId}:${nodeId}:${item}` : `${executionId}:${nodeId}`);

type Finished = { nodeId: string; outcome: Outcome; record: NodeRunRecord; park?: WaitState };

/**
 * Drives one graph to its end: asks `advance` for runnable nodes, runs them concurrently, and
 * hands each finished node to `settle` (which stores it; false = stop) before feeding it back.
 * The main run and every loop item go through here.
 */
async function drive(
  env: Env,
  g: CompiledGraph,
  start: RunState,
  opts: StartOptions,
  outer: Scope['$node'],
  item: string,
  settle: (f: Finished) => Promise<boolean>,
): Promise<{ state: RunState; lost: boolean; parked: WaitState[] }> {
  let state = start;
  let lost = false;
  // A parked wait node stays "running": its successors wait while the other branches finish.
  const parked: WaitState[] = [];
  const inflight = new Map<string, Promise<Finished>>();
  for (;;) {
    if (!env.signal.aborted && !lost) {
      const next = advance(g, state, opts);
      state = next.state;
      for (const step of next.run) {
        // Loop bodies (item set) are not reported node by node, as they are not stored node by node.
        if (env.onNodeStart && !item) env.onNodeStart(env.plan, g.byId.get(step.nodeId)!);
        inflight.set(step.nodeId, runNode(env, g, step, state, outer, item));
      }
    }
    if (inflight.size === 0) break;
    // One node in flight (a chain, a loop body) needs no race.
    const done = await (inflight.size === 1 ? inflight.values().next().value! : Promise.race(inflight.values()));
    inflight.delete(done.nodeId);
    if (env.signal.aborted || lost) continue;
    if (done.park) {
      parked.push(done.park);
      continue;
    }
    state = complete(g, state, done.nodeId, done.outcome, opts);
    // Keep the stored record in step with how the state machine routed a failure.
    done.record.ports = state.nodes[done.nodeId]?.ports ?? null;
    if (!(await settle(done))) lost = true;
  }
  return { state, lost, parked };
}

async function runNode(env: Env, g: CompiledGraph, step: Step, snapshot: RunState, outer: Scope['$node'], item: string): Promise<Finished> {
  const { plan, now, signal } = env;
  const node = g.byId.get(step.nodeId)!;
  const def = g.defs.get(step.nodeId);
  const startedAt = now();
  const logs: LogEntry[] = [];
  const log = (level: LogEntry['level'], message: string, data?: Record<string, unknown>) => {
    if (logs.length < 200) logs.push({ at: now().toISOString(), level, message: message.slice(0, 2000), ...(data ? { data } : {}) });
  };
  let attempts = 0;
  let park: WaitState | undefined;
  const outcome = await (async (): Promise<Outcome> => {
    if (!def) return { ok: false, error: { code: 'NODE_TYPE_UNKNOWN', message: `Unknown node type "${node.type}".` } };
    if (node.disabled) return { ok: true, ports: { [def.outputs[0]!]: step.input } };
    if (plan.usePins && node.pinned !== undefined) {
      log('info', 'used pinned data');
      return { ok: true, ports: { [def.outputs[0]!]: node.pinned } };
    }
    const scope = nodeRunScope(g, step, snapshot, outer, plan);
    const retries = node.settings?.retries ?? 0;
    let last: ReturnType<typeof toError> = { code: 'NODE_FAILED', message: 'not run', retryable: false };
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      attempts = attempt;
      const timeoutMs = node.settings?.timeoutMs;
      const nodeSignal = timeoutMs ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : signal;
      try {
        const params = await paramsFor(g, def, node, scope);
        // NB: listed, not spread: `{ ...caps, …15 more }` made every ctx a dictionary-mode object
        // (~4 KB, and 2× slower loops: bench/flows.ts loop, 100,000 items).
        const { caps } = env;
        const ctx: NodeContext = {
          records: caps.records,
          actions: caps.actions,
          secrets: caps.secrets,
          http: caps.http,
          flows: caps.flows,
          ai: caps.ai,
          executionId: plan.id,
          nodeId: node.id,
          nodeName: node.name,
          attempt,
          idempotencyKey: effectKey(plan.id, node.id, item),
          log,
          signal: nodeSignal,
          now,
          expression: (source: string) => evaluate(source, scope),
        };
        let input: unknown = step.input;
        if (def.input) {
          const checked = await def.input.safeParseAsync(step.input);
          if (!checked.success)
            throw new NodeError(`Invalid input: ${checked.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`, {
              code: 'NODE_INPUT_INVALID',
              details: checked.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })),
              retryable: false,
            });
          input = checked.data;
        }
        let ports = await abortable(def.execute({ params, input, inputs: step.inputs, ctx }), nodeSignal);
        if (def.control === 'loop') ports = await runLoop(env, g, node.id, ports[LOOP_ITEM_PORT], params, scope.$node, item, log);
        if (def.control === 'wait') {
          const w = ports.main as { resumeAt: string; webhook: boolean };
          const ms = Date.parse(w.resumeAt) - now().getTime();
          if (w.webhook || ms > PARK_AFTER_MS) {
            park = { nodeId: node.id, input: step.input, resumeAt: w.resumeAt, webhook: w.webhook };
            log('info', w.webhook ? `waiting for the resume URL until ${w.resumeAt}` : `parked until ${w.resumeAt}`);
            return { ok: true, ports: {} };
          }
          if (ms > 0) await sleep(ms, signal);
          return { ok: true, ports: { main: step.input } };
        }
        const unknown = Object.keys(ports).filter((p) => !def.outputs.includes(p));
        if (unknown.length) return { ok: false, error: { code: 'NODE_BAD_OUTPUT', message: `${node.type} emitted unknown port(s): ${unknown.join(', ')}` } };
        return { ok: true, ports };
      } catch (err) {
        if (signal.aborted) return { ok: false, error: { code: 'EXECUTION_ABORTED', message: 'The execution was canceled or timed out.' } };
        last = nodeSignal.aborted ? { code: 'NODE_TIMEOUT', message: `${node.name} took longer than ${timeoutMs} ms.`, retryable: true } : toError(err);
        if (!last.retryable || attempt > retries) break;
        const delay = retryDelay(node.settings?.retryDelayMs ?? 1000, attempt);
        log('warn', `attempt ${attempt} failed (${last.message}); retrying in ${delay} ms`);
        try {
          await sleep(delay, signal);
        } catch {
          return { ok: false, error: { code: 'EXECUTION_ABORTED', message: 'The execution was canceled or timed out.' } };
        }
      }
    }
    const error = { code: last.code, message: last.message, ...(last.details === undefined ? {} : { details: last.details }) };
    if (attempts > 1) log('error', `failed after ${attempts} attempts: ${error.message}`);
    return { ok: false, error };
  })();
  const record: NodeRunRecord = {
    nodeId: node.id,
    nodeName: node.name,
    nodeType: node.type,
    status: outcome.ok ? 'succeeded' : 'failed',
    ports: outcome.ok ? outcome.ports : null,
    input: step.input,
    error: outcome.ok ? null : outcome.error,
    logs,
    attempts,
    startedAt,
    finishedAt: now(),
  };
  return { nodeId: step.nodeId, outcome, record, ...(park ? { park } : {}) };
}

/**
 * A loop node: runs its body once per item (at most `concurrency` at a time), each item through
 * the same engine, and collects what reaches the loop's "return" input, in item order. Body node
 * runs are not stored one by one (a loop may have 100,000 items): the loop's own run carries the
 * results and a summary line. An item that fails stops the loop with its index and error.
 */
async function runLoop(
  env: Env,
  g: CompiledGraph,
  loopId: string,
  items: unknown,
  params: unknown,
  outer: Scope['$node'],
  parentItem: string,
  log: (level: LogEntry['level'], message: string) => void,
): Promise<Record<string, unknown>> {
  const body = g.bodies.get(loopId);
  if (!Array.isArray(items)) throw new NodeError('The loop needs a list of items.', { code: 'LOOP_ITEMS_INVALID', retryable: false });
  const results: unknown[] = new Array<unknown>(items.length).fill(null);
  if (!body || body.starts.length === 0) return { done: items };
  const concurrency = Math.max(1, Math.min(50, (params as { concurrency?: number }).concurrency ?? 1));
  const opts: StartOptions = { ...startOptions({ ...env.plan, graph: body.graph }, 1_000_000), start: body.starts };
  let next = 0;
  let failed: { index: number; error: Failure } | null = null;
  // A body with effects is checkpointed per item (a resumed execution skips what is stored); a
  // pure body is not (redoing it changes nothing): the per-item cost of pure loops stays nil.
  const save = body.graph.pure ? undefined : env.saveLoopItem;
  const prior = save ? env.plan.priorItems : undefined;
  let resumed = 0;
  // Item bodies that never wait for I/O would run the whole loop in one go of microtasks: give
  // the event loop (other requests, timers, the lease) a turn every few milliseconds.
  let turnAt = performance.now();
  let sinceCheck = 0;
  const worker = async () => {
    while (!failed && !env.signal.aborted && !env.lost && next < items.length) {
      if (++sinceCheck === 64) {
        sinceCheck = 0;
        if (performance.now() - turnAt > YIELD_EVERY_MS) {
          await new Promise((r) => setImmediate(r));
          turnAt = performance.now();
          continue; // the others went on meanwhile: check again
        }
      }
      const index = next++;
      const path = parentItem ? `${parentItem}.${index}` : String(index);
      if (prior?.has(`${loopId}:${path}`)) {
        results[index] = prior.get(`${loopId}:${path}`);
        resumed++;
        continue;
      }
      const { state, parked } = await drive(env, body.graph, initialState(body.graph), { ...opts, input: items[index] }, outer, path, async () =>
        Promise.resolve(true),
      );
      if (parked.length) {
        failed ??= {
          index,
          error: { nodeId: parked[0]!.nodeId, code: 'WAIT_IN_LOOP', message: 'A wait longer than a few seconds cannot be inside a loop body.' },
        };
        return;
      }
      if (state.failure) {
        failed ??= { index, error: state.failure };
        return;
      }
      for (const e of body.returns) {
        const ports = state.nodes[e.source]?.ports;
        if (ports && Object.hasOwn(ports, e.sourceHandle)) {
          results[index] = ports[e.sourceHandle];
          break;
        }
      }
      if (save && !env.signal.aborted && !(await save(env.plan, loopId, path, results[index] ?? null))) env.lost = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (env.lost) throw new NodeError('The execution was taken over by another worker.', { code: 'EXECUTION_LOST', retryable: false });
  if (failed) {
    const f: { index: number; error: Failure } = failed;
    throw new NodeError(`Item ${f.index} failed at ${f.error.nodeId ?? 'the body'}: ${f.error.message}`, {
      code: 'LOOP_ITEM_FAILED',
      details: { index: f.index, error: f.error },
      retryable: false,
    });
  }
  log('info', `${items.length} item(s) done, ${concurrency} at a time${resumed ? ` (${resumed} completed before the resume)` : ''}`);
  return { done: results };
}

export async function executePlan(plan: ExecutionPlan, deps: ExecutorDeps, signal: AbortSignal, maxSteps: number): Promise<ExecutionResult> {
  const caps = deps.capabilities(plan);
  const result = await run(plan, { ...deps, capabilities: () => caps }, signal, maxSteps);
  // NB: masked only on the way out: the nodes of this run still pass each other the real data.
  return caps.redact ? caps.redact(result) : result;
}

async function run(plan: ExecutionPlan, deps: ExecutorDeps, signal: AbortSignal, maxSteps: number): Promise<ExecutionResult> {
  const g = plan.graph;
  const opts = startOptions(plan, maxSteps);
  const caps = deps.capabilities(plan);
  const redact = caps.redact;
  const saveItem = deps.saveLoopItem;
  // A loop checkpoint is stored (and backed up) like a node run: masked first. NB: a resumed run
  // reads the masked result back, as it reads masked node outputs.
  const saveLoopItem: ExecutorDeps['saveLoopItem'] = saveItem && redact ? (p, loopId, item, result) => saveItem(p, loopId, item, redact(result)) : saveItem;
  const env: Env = { plan, caps, now: deps.now ?? (() => new Date()), signal, saveLoopItem, onNodeStart: deps.onNodeStart, lost: false };
  const { state, lost, parked } = await drive(env, g, replay(plan, opts), opts, {}, '', (f) => deps.saveNodeRun(plan, redact ? redact(f.record) : f.record));
  if (lost || env.lost) return { status: 'lost', output: null, error: null, steps: state.steps };
  if (signal.aborted) {
    const reason = signal.reason as { name?: string } | undefined;
    if (reason?.name === 'TimeoutError')
      return {
        status: 'failed',
        output: null,
        error: { nodeId: null, code: 'EXECUTION_TIMEOUT', message: 'The execution ran longer than its timeout.' },
        steps: state.steps,
      };
    return { status: 'canceled', output: null, error: null, steps: state.steps };
  }
  if (state.failure) return { status: 'failed', output: null, error: state.failure, steps: state.steps };
  if (parked.length)
    return { status: 'waiting', output: null, error: null, steps: state.steps, wait: [...parked].sort((a, b) => a.resumeAt.localeCompare(b.resumeAt))[0]! };
  return { status: 'succeeded', output: executionOutput(g, state), error: null, steps: state.steps, response: executionResponse(g, state) };
}
