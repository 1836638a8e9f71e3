// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { FilterBuilder } from './FilterBuilder';
import { type FilterGroup, toFilter } from './filter';
import type { FieldDef } from './types';

const FIELDS: FieldDef[] = [
  { name: 'name', type: 'string' },
  { name: 'age', type: 'integer' },
  { name: 'tier', type: 'enum', values: ['gold', 'silver'] },
  { name: 'active', type: 'boolean' },
];

afterEach(cleanup);

function Harness({ out }: { out: { filter?: unknown } }) {
  const [g, setG] = useState<FilterGroup>({ match: 'all', conditions: [] });
  out.filter = toFilter(g, FIELDS);
  return <FilterBuilder fields={FIELDS} value={g} onChange={setG} />;
}

describe('filter builder', () => {
  it('builds the records filter language by choosing fields, operators and values', () => {
    const out: { filter?: unknown } = {};
    render(<Harness out={out} />);
    expect(out.filter).toBeUndefined();

    fireEvent.click(screen.getByRole('button', { name: 'Add condition' }));
    fireEvent.change(screen.getByLabelText('Condition 1 field'), { target: { value: 'age' } });
    fireEvent.change(screen.getByLabelText('Condition 1 operator'), { target: { value: 'gte' } });
    fireEvent.change(screen.getByLabelText('Condition 1 value'), { target: { value: '30' } });
    expect(out.filter).toEqual({ age: { gte: 30 } });

    fireEvent.click(screen.getByRole('button', { name: 'Add condition' }));
    fireEvent.change(screen.getByLabelText('Condition 2 field'), { target: { value: 'tier' } });
    // An enum offers its values; numbers-only operators are not offered for it.
    expect(screen.getAllByRole('option', { name: 'gold' }).length).toBe(1);
    expect([...screen.getByLabelText<HTMLSelectElement>('Condition 2 operator').options].map((o) => o.value)).toEqual(['eq', 'ne', 'in', 'nin', 'isNull']);
    fireEvent.change(screen.getByLabelText('Condition 2 value'), { target: { value: 'gold' } });
    expect(out.filter).toEqual({ and: [{ age: { gte: 30 } }, { tier: { eq: 'gold' } }] });

    fireEvent.change(screen.getByLabelText('Match'), { target: { value: 'any' } });
    fireEvent.change(screen.getByLabelText('Condition 2 operator'), { target: { value: 'in' } });
    fireEvent.change(screen.getByLabelText('Condition 2 value'), { target: { value: 'gold, silver' } });
    expect(out.filter).toEqual({ or: [{ age: { gte: 30 } }, { tier: { in: ['gold', 'silver'] } }] });

    fireEvent.click(screen.getByRole('button', { name: 'Remove condition 1' }));
    fireEvent.change(screen.getByLabelText('Condition 1 operator'), { target: { value: 'isNull' } });
    expect(out.filter).toEqual({ or: [{ tier: { isNull: true } }] });
  });

  it('leaves out conditions without a value and types booleans and numbers', () => {
    expect(toFilter({ match: 'all', conditions: [{ field: 'name', op: 'contains', value: ' ' }] }, FIELDS)).toBeUndefined();
    expect(
      toFilter(
        {
          match: 'all',
          conditions: [
            { field: 'active', op: 'eq', value: 'false' },
            { field: 'age', op: 'nin', value: '1, 2,' },
          ],
        },
        FIELDS,
      ),
    ).toEqual({ and: [{ active: { eq: false } }, { age: { nin: [1, 2] } }] });
    expect(toFilter({ match: 'all', conditions: [{ field: 'name', op: 'isNull', value: 'false' }] }, FIELDS)).toEqual({ name: { isNull: false } });
  });
});
