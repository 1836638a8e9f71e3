import type { IDataObject } from 'n8n-workflow';

/** The list API's operators (SPEC §4), as the filter builder offers them. */
export const OPERATORS = [
  { name: 'Contains', value: 'contains' },
  { name: 'Contains (Case-Insensitive)', value: 'icontains' },
  { name: 'Equals', value: 'eq' },
  { name: 'Greater Than', value: 'gt' },
  { name: 'Greater Than or Equal', value: 'gte' },
  { name: 'In List', value: 'in' },
  { name: 'Is Empty', value: 'isNull' },
  { name: 'Less Than', value: 'lt' },
  { name: 'Less Than or Equal', value: 'lte' },
  { name: 'Not Equals', value: 'ne' },
  { name: 'Not In List', value: 'nin' },
  { name: 'Starts With', value: 'startsWith' },
] as const;

export interface Condition {
  field?: string;
  operator?: string;
  value?: string | number | boolean;
}

function valueOf(c: Condition): unknown {
  const v = c.value ?? '';
  switch (c.operator) {
    case 'isNull':
      // "Is Empty" with no value means "is empty"; "false" asks for "is not empty".
      return !(v === false || String(v).trim().toLowerCase() === 'false');
    case 'in':
    case 'nin':
      return String(v)
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    default:
      return v;
  }
}

/**
 * The fixed collection `filters.conditions` as the filter language's JSON (`filter=<JSON>`):
 * `{and|or: [{field: {op: value}}, …]}`; undefined when there is no condition. The server
 * converts each value to its field's type.
 */
export function filterOf(filters: { conditions?: Condition[] } | undefined, match: string): IDataObject | undefined {
  const conditions = (filters?.conditions ?? []).filter((c) => c.field);
  if (conditions.length === 0) return undefined;
  const parts = conditions.map((c) => ({ [c.field!]: { [c.operator ?? 'eq']: valueOf(c) } }) as IDataObject);
  return { [match === 'any' ? 'or' : 'and']: parts };
}

/** The fixed collection `sort.rules` as the list API's `sort=-price,name`. */
export function sortOf(sort: { rules?: Array<{ field?: string; direction?: string }> } | undefined): string | undefined {
  const keys = (sort?.rules ?? []).filter((r) => r.field).map((r) => `${r.direction === 'desc' ? '-' : ''}${r.field}`);
  return keys.length ? keys.join(',') : undefined;
}
