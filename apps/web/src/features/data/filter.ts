import type { FieldDef } from './types';

/** One condition of the filter builder, as the user typed it. */
export interface Condition {
  field: string;
  op: Operator;
  value: string;
}
export interface FilterGroup {
  match: 'all' | 'any';
  conditions: Condition[];
}

export const OPERATORS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'contains', 'icontains', 'startsWith', 'in', 'nin', 'isNull'] as const;
export type Operator = (typeof OPERATORS)[number];

export const OPERATOR_LABEL: Record<Operator, string> = {
  eq: 'is',
  ne: 'is not',
  gt: '>',
  gte: '≥',
  lt: '<',
  lte: '≤',
  contains: 'contains',
  icontains: 'contains (any case)',
  startsWith: 'starts with',
  in: 'is one of',
  nin: 'is none of',
  isNull: 'is empty',
};

/** The operators that make sense for a field type (the server accepts each for these types). */
export function operatorsFor(type: FieldDef['type'] | 'datetime' | 'uuid'): Operator[] {
  switch (type) {
    case 'integer':
    case 'number':
    case 'date':
    case 'datetime':
      return ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'isNull'];
    case 'boolean':
      return ['eq', 'ne', 'isNull'];
    case 'enum':
    case 'uuid':
    case 'relation':
      return ['eq', 'ne', 'in', 'nin', 'isNull'];
    case 'string':
    case 'text':
      return ['eq', 'ne', 'contains', 'icontains', 'startsWith', 'in', 'nin', 'gt', 'lt', 'isNull'];
    default:
      return ['isNull'];
  }
}

/** A typed value from the text box: numbers for number fields, lists for in/nin, yes/no for isNull. */
function valueOf(field: FieldDef | undefined, op: Operator, raw: string): unknown {
  if (op === 'isNull') return raw !== 'false';
  if (op === 'in' || op === 'nin')
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => scalar(field, s));
  return scalar(field, raw.trim());
}

function scalar(field: FieldDef | undefined, s: string): unknown {
  if (field?.type === 'integer' || field?.type === 'number') return Number.isFinite(Number(s)) && s !== '' ? Number(s) : s;
  if (field?.type === 'boolean') return s === 'true' ? true : s === 'false' ? false : s;
  return s;
}

/**
 * The records filter language (SPEC §4) for a group of conditions: `{ and: [...] }` or
 * `{ or: [...] }` of `{ field: { op: value } }`; conditions with no value yet are left out; an empty
 * group is no filter at all (undefined).
 */
export function toFilter(group: FilterGroup, fields: FieldDef[]): Record<string, unknown> | undefined {
  const parts = group.conditions
    .filter((c) => c.field && (c.op === 'isNull' || c.value.trim() !== ''))
    .map((c) => ({
      [c.field]: {
        [c.op]: valueOf(
          fields.find((f) => f.name === c.field),
          c.op,
          c.value,
        ),
      },
    }));
  if (!parts.length) return undefined;
  if (parts.length === 1 && group.match === 'all') return parts[0];
  return { [group.match === 'all' ? 'and' : 'or']: parts };
}
