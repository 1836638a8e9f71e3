import { describe, expect, it } from 'vitest';
import { record, redo, startHistory, undo } from './history';
import { connectionProblem } from './rules';
import type { Graph, NodeType } from './types';

const def = (type: string, kind: 'node' | 'trigger', inputs: string[], outputs: string[], control?: 'loop'): NodeType => ({
  type,
  version: 1,
  kind,
  title: type,
  description: '',
  category: 'flow',
  inputs,
  outputs,
  params: {},
  ...(control ? { control } : {}),
});
const TYPES = [
  def('trigger.manual', 'trigger', [], ['main']),
  def('core.set', 'node', ['main'], ['main']),
  def('core.if', 'node', ['main'], ['true', 'false']),
  def('core.loop', 'node', ['main', 'return'], ['item', 'done'], 'loop'),
];
const typeOf = (t: string) => TYPES.find((d) => d.type === t);
const n = (id: string, type: string) => ({ id, type, typeVersion: 1, name: id.toUpperCase(), position: { x: 0, y: 0 }, params: {} });
const e = (source: string, sourceHandle: string, target: string, targetHandle = 'main') => ({
  id: `${source}-${target}-${sourceHandle}`,
  source,
  sourceHandle,
  target,
  targetHandle,
});

const graph: Graph = {
  nodes: [n('t', 'trigger.manual'), n('a', 'core.set'), n('b', 'core.set'), n('c', 'core.if'), n('l', 'core.loop'), n('body', 'core.set')],
  edges: [e('t', 'main', 'a'), e('a', 'main', 'b'), e('l', 'item', 'body')],
};
const c = (source: string, sourceHandle: string | null, target: string, targetHandle: string | null = 'main') => ({
  source,
  sourceHandle,
  target,
  targetHandle,
});

describe('canvas connection rules', () => {
  it('allows an output into an input, on each named port and on the error port', () => {
    expect(connectionProblem(c('b', 'main', 'c'), graph, typeOf)).toBeNull();
    expect(connectionProblem(c('c', 'false', 'l'), graph, typeOf)).toBeNull();
    expect(connectionProblem(c('a', 'error', 'c'), graph, typeOf)).toBeNull();
    expect(connectionProblem(c('t', null, 'c', null), graph, typeOf)).toBeNull();
  });

  it('refuses each forbidden connection with the reason', () => {
    expect(connectionProblem(c('a', 'main', 't'), graph, typeOf)).toMatch(/trigger: nothing can lead into it/);
    expect(connectionProblem(c('a', 'main', 'a'), graph, typeOf)).toMatch(/itself/);
    expect(connectionProblem(c('a', 'main', 'b'), graph, typeOf)).toMatch(/already connected/);
    expect(connectionProblem(c('c', 'maybe', 'b'), graph, typeOf)).toMatch(/no output "maybe"/);
    expect(connectionProblem(c('a', 'main', 'b', 'side'), graph, typeOf)).toMatch(/no input "side"/);
    expect(connectionProblem(c('a', 'main', 'ghost'), graph, typeOf)).toMatch(/nodes of this flow/);
  });

  it('refuses a cycle, except the edge that closes a loop body into the loop’s return input', () => {
    expect(connectionProblem(c('b', 'main', 'a'), graph, typeOf)).toMatch(/cycle/);
    expect(connectionProblem(c('body', 'main', 'l', 'return'), graph, typeOf)).toBeNull();
    expect(connectionProblem(c('body', 'main', 'l', 'main'), graph, typeOf)).toMatch(/cycle/);
  });
});

describe('undo and redo', () => {
  it('steps back and forward through edits; a new edit drops the redo branch', () => {
    let h = startHistory(1);
    h = record(h, 2);
    h = record(h, 3);
    h = undo(h);
    expect(h.present).toBe(2);
    h = redo(h);
    expect(h.present).toBe(3);
    h = undo(undo(h));
    expect(h.present).toBe(1);
    expect(undo(h)).toBe(h);
    h = record(h, 9);
    expect(h.future).toEqual([]);
    expect(redo(h)).toBe(h);
  });

  it('keeps at most the cap of steps', () => {
    let h = startHistory(0);
    for (let i = 1; i <= 150; i++) h = record(h, i);
    expect(h.past.length).toBe(100);
    expect(h.past[0]).toBe(50);
  });
});
