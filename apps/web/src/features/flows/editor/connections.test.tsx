// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Connections } from './Connections';
import type { FlowEdge, Graph, NodeType } from './types';

const def = (type: string, kind: 'node' | 'trigger', inputs: string[], outputs: string[]): NodeType => ({
  type,
  version: 1,
  kind,
  title: type,
  description: '',
  category: 'flow',
  inputs,
  outputs,
  params: {},
});
const TYPES = [
  def('trigger.manual', 'trigger', [], ['main']),
  def('core.set', 'node', ['main'], ['main']),
  def('core.if', 'node', ['main'], ['true', 'false']),
];
const typeOf = (t: string) => TYPES.find((d) => d.type === t);
const n = (id: string, type: string, name: string) => ({ id, type, typeVersion: 1, name, position: { x: 0, y: 0 }, params: {} });
const graph: Graph = {
  nodes: [n('t', 'trigger.manual', 'Start'), n('a', 'core.set', 'A'), n('b', 'core.set', 'B'), n('c', 'core.if', 'Check')],
  edges: [
    { id: 'e1', source: 't', sourceHandle: 'main', target: 'a', targetHandle: 'main' },
    { id: 'e2', source: 'a', sourceHandle: 'main', target: 'b', targetHandle: 'main' },
  ],
};

afterEach(cleanup);

describe('connecting nodes without a mouse', () => {
  it('offers only the inputs the rules allow, and adds the chosen edge', () => {
    const made: Omit<FlowEdge, 'id'>[] = [];
    render(<Connections nodeId="b" graph={graph} typeOf={typeOf} readOnly={false} onConnect={(e) => (made.push(e), null)} onRemove={() => undefined} />);
    fireEvent.click(screen.getByText(/^Connections/));
    const options = [...screen.getByLabelText<HTMLSelectElement>('Connect to').options].map((o) => o.text);
    // Not the trigger (nothing leads into it), not A (B already follows A: a cycle), not B itself.
    expect(options).toEqual(['choose a node…', 'Check']);
    fireEvent.change(screen.getByLabelText('Connect to'), { target: { value: 'c\u0000main' } });
    fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    expect(made).toEqual([{ source: 'b', sourceHandle: 'main', target: 'c', targetHandle: 'main' }]);
  });

  it('connects a named output port, lists the node’s edges, and removes one', () => {
    const made: Omit<FlowEdge, 'id'>[] = [];
    const removed: string[] = [];
    render(
      <Connections nodeId="a" graph={graph} typeOf={typeOf} readOnly={false} onConnect={(e) => (made.push(e), null)} onRemove={(id) => removed.push(id)} />,
    );
    expect(screen.getByText('Connections (2)')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Output'), { target: { value: 'error' } });
    fireEvent.change(screen.getByLabelText('Connect to'), { target: { value: 'c\u0000main' } });
    fireEvent.click(screen.getByRole('button', { name: 'Connect' }));
    expect(made).toEqual([{ source: 'a', sourceHandle: 'error', target: 'c', targetHandle: 'main' }]);
    fireEvent.click(screen.getByRole('button', { name: 'Remove connection A to B' }));
    expect(removed).toEqual(['e2']);
  });

  it('shows nothing to change for a viewer', () => {
    render(<Connections nodeId="a" graph={graph} typeOf={typeOf} readOnly onConnect={() => null} onRemove={() => undefined} />);
    expect(screen.queryByRole('button', { name: 'Connect' })).toBeNull();
    expect(screen.queryByRole('button', { name: /^Remove connection/ })).toBeNull();
  });
});
