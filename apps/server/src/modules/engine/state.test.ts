import { describe, expect, it } from 'vitest';
import { builtinNodes, NodeRegistry } from '../nodes/index.js';
import { type FlowEdge, type FlowNode, compileGraph, findCycle, flowSettingsSchema } from './graph.js';
import { type RunState, advance, complete, executionOutput, initialState, retryDelay } from './state.js';

const registry = new NodeRegistry(builtinNodes({ sandbox: null as never }));
const n = (id: string, type = 'core.noop', params: Record<string, unknown> = {}): FlowNode => ({
  id,
  type,
  typeVersion: 1,
  name: id,
  position: { x: 0, y: 0 },
  params,
});
const e = (source: string, target: string, sourceHandle = 'main'): FlowEdge => ({
  id: `${source}-${target}-${sourceHandle}`,
  source,
  sourceHandle,
  target,
  targetHandle: 'main',
});
const graph = (nodes: FlowNode[], edges: FlowEdge[]) => compileGraph({ nodes, edges, settings: flowSettingsSchema.parse({}) }, registry.get);
const opts = (start: string[], extra: Partial<{ maxSteps: number; first: string[]; cont: string[] }> = {}) => ({
  start,
  input: { x: 1 },
  maxSteps: extra.maxSteps ?? 100,
  joinOf: (id: string) => (extra.first?.includes(id) ? ('first' as const) : ('all' as const)),
  onErrorOf: (id: string) => (extra.cont?.includes(id) ? ('continue' as const) : ('fail' as const)),
});
const statuses = (s: RunState) => Object.fromEntries(Object.entries(s.nodes).map(([k, v]) => [k, v.status]));

describe('engine state machine (pure)', () => {
  it('runs start nodes first, skips other roots, then successors in dependency order', () => {
    const g = graph([n('t', 'trigger.manual'), n('w', 'trigger.webhook'), n('a'), n('b')], [e('t', 'a'), e('w', 'a'), e('a', 'b')]);
    const o = opts(['t']);
    let r = advance(g, initialState(g), o);
    expect(r.run.map((s) => s.nodeId)).toEqual(['t']);
    expect(statuses(r.state)).toMatchObject({ t: 'running', w: 'skipped', a: 'pending', b: 'pending' });
    let s = complete(g, r.state, 't', { ok: true, ports: { main: 1 } }, o);
    r = advance(g, s, o);
    // a has two incoming edges: w's is settled (skipped, no data), t's carried data → runs with it.
    expect(r.run).toEqual([{ nodeId: 'a', input: 1, inputs: [1] }]);
    s = complete(g, r.state, 'a', { ok: true, ports: { main: 2 } }, o);
    r = advance(g, s, o);
    expect(r.run.map((x) => x.nodeId)).toEqual(['b']);
  });

  it('follows only the ports a node emitted and skips the other branch transitively', () => {
    const g = graph(
      [n('t', 'trigger.manual'), n('if', 'core.if'), n('yes'), n('yes2'), n('no'), n('join')],
      [e('t', 'if'), e('if', 'yes', 'true'), e('yes', 'yes2'), e('if', 'no', 'false'), e('yes2', 'join'), e('no', 'join')],
    );
    const o = opts(['t']);
    let s = advance(g, initialState(g), o).state;
    s = complete(g, s, 't', { ok: true, ports: { main: 'in' } }, o);
    s = advance(g, s, o).state;
    s = complete(g, s, 'if', { ok: true, ports: { false: 'in' } }, o);
    const r = advance(g, s, o);
    expect(r.run.map((x) => x.nodeId)).toEqual(['no']);
    expect(statuses(r.state)).toMatchObject({ yes: 'skipped', yes2: 'skipped', no: 'running', join: 'pending' });
    s = complete(g, r.state, 'no', { ok: true, ports: { main: 'from no' } }, o);
    expect(advance(g, s, o).run).toEqual([{ nodeId: 'join', input: 'from no', inputs: ['from no'] }]);
  });

  it('runs parallel branches together; join "all" waits for both, "first" does not', () => {
    const g = graph(
      [n('t', 'trigger.manual'), n('a'), n('b'), n('all'), n('first')],
      [e('t', 'a'), e('t', 'b'), e('a', 'all'), e('b', 'all'), e('a', 'first'), e('b', 'first')],
    );
    const o = opts(['t'], { first: ['first'] });
    let s = complete(g, advance(g, initialState(g), o).state, 't', { ok: true, ports: { main: 0 } }, o);
    let r = advance(g, s, o);
    expect(r.run.map((x) => x.nodeId)).toEqual(['a', 'b']);
    s = complete(g, r.state, 'b', { ok: true, ports: { main: 'B' } }, o);
    r = advance(g, s, o);
    expect(r.run).toEqual([{ nodeId: 'first', input: 'B', inputs: ['B'] }]);
    s = complete(g, r.state, 'a', { ok: true, ports: { main: 'A' } }, o);
    r = advance(g, s, o);
    expect(r.run).toEqual([{ nodeId: 'all', input: 'A', inputs: ['A', 'B'] }]);
  });

  it('routes a failure to the error port when wired, to main with continue-on-error, else fails the run', () => {
    const g = graph([n('t', 'trigger.manual'), n('a'), n('onErr'), n('b'), n('c')], [e('t', 'a'), e('a', 'onErr', 'error'), e('t', 'b'), e('t', 'c')]);
    const o = opts(['t'], { cont: ['b'] });
    let s = complete(g, advance(g, initialState(g), o).state, 't', { ok: true, ports: { main: 0 } }, o);
    s = advance(g, s, o).state;
    const err = { code: 'X', message: 'boom' };
    s = complete(g, s, 'a', { ok: false, error: err }, o);
    expect(s.nodes.a).toEqual({ status: 'failed', ports: { error: { error: err } } });
    s = complete(g, s, 'b', { ok: false, error: err }, o);
    expect(s.nodes.b).toEqual({ status: 'failed', ports: { main: { error: err } } });
    expect(s.failure).toBeNull();
    s = complete(g, s, 'c', { ok: false, error: err }, o);
    expect(s.failure).toEqual({ nodeId: 'c', ...err });
    expect(advance(g, s, o).run).toEqual([]);
  });

  it('stops at the max-steps guard', () => {
    const g = graph([n('t', 'trigger.manual'), n('a'), n('b')], [e('t', 'a'), e('a', 'b')]);
    const o = opts(['t'], { maxSteps: 2 });
    let s = complete(g, advance(g, initialState(g), o).state, 't', { ok: true, ports: { main: 0 } }, o);
    s = complete(g, advance(g, s, o).state, 'a', { ok: true, ports: { main: 0 } }, o);
    const r = advance(g, s, o);
    expect(r.run).toEqual([]);
    expect(r.state.failure?.code).toBe('EXECUTION_MAX_STEPS');
  });

  it('returns the respond node’s body, else the last sink’s output', () => {
    const g = graph([n('t', 'trigger.manual'), n('r', 'core.respond')], [e('t', 'r')]);
    const o = opts(['t']);
    let s = complete(g, advance(g, initialState(g), o).state, 't', { ok: true, ports: { main: 0 } }, o);
    s = complete(g, advance(g, s, o).state, 'r', { ok: true, ports: { main: { status: 201, headers: {}, body: { ok: true } } } }, o);
    expect(executionOutput(g, s)).toEqual({ ok: true });
    const g2 = graph([n('t', 'trigger.manual'), n('a')], [e('t', 'a')]);
    let s2 = complete(g2, advance(g2, initialState(g2), o).state, 't', { ok: true, ports: { main: 0 } }, o);
    s2 = complete(g2, advance(g2, s2, o).state, 'a', { ok: true, ports: { main: 'last' } }, o);
    expect(executionOutput(g2, s2)).toBe('last');
  });

  it('finds cycles and doubles the backoff per attempt', () => {
    expect(findCycle({ nodes: [n('a'), n('b'), n('c')], edges: [e('a', 'b'), e('b', 'c'), e('c', 'b')], settings: flowSettingsSchema.parse({}) })).toEqual([
      'b',
      'c',
      'b',
    ]);
    expect(findCycle({ nodes: [n('a'), n('b')], edges: [e('a', 'b')], settings: flowSettingsSchema.parse({}) })).toBeNull();
    expect([1, 2, 3, 4].map((a) => retryDelay(100, a))).toEqual([100, 200, 400, 800]);
  });
});

describe('loop bodies', () => {
  it('are compiled apart, skipped in the enclosing run, and the back edge is not a cycle', () => {
    const nodes = [n('t', 'trigger.manual'), n('loop', 'core.loop'), n('double', 'core.transform', { expression: '$input * 2' }), n('after')];
    const edges = [
      e('t', 'loop'),
      e('loop', 'double', 'item'),
      { id: 'back', source: 'double', sourceHandle: 'main', target: 'loop', targetHandle: 'return' },
      e('loop', 'after', 'done'),
    ];
    const g = graph(nodes, edges);
    expect([...g.inBody]).toEqual(['double']);
    expect(g.bodies.get('loop')).toMatchObject({ starts: ['double'], returns: [{ id: 'back' }] });
    expect(findCycle({ nodes, edges: edges.filter((x) => x.id !== 'back'), settings: flowSettingsSchema.parse({}) })).toBeNull();
    const o = opts(['t']);
    let s = complete(g, advance(g, initialState(g), o).state, 't', { ok: true, ports: { main: [1, 2] } }, o);
    const r = advance(g, s, o);
    expect(r.run.map((x) => x.nodeId)).toEqual(['loop']);
    expect(statuses(r.state).double).toBe('skipped');
    s = complete(g, r.state, 'loop', { ok: true, ports: { done: [2, 4] } }, o);
    expect(advance(g, s, o).run).toEqual([{ nodeId: 'after', input: [2, 4], inputs: [[2, 4]] }]);
  });
});
