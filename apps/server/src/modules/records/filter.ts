import { type RawBuilder, sql } from 'kysely';
import type { FieldDef, ModelDef, OrgModels } from '../schema/index.js';
import { inverseRelations } from '../schema/index.js';
import { ident } from '../../platform/db/index.js';
import { recordErrors } from './records.errors.js';

/**
 * The records filter language, shared by the REST API and (later) flows, actions, realtime and
 * the UI. One parser turns the query-string or JSON form into an AST; one compiler turns the AST
 * into SQL. Identifiers come only from model definitions; every value is a bound parameter.
 *
 *   { "price": { "gt": 5 }, "or": [ { "name": { "startsWith": "A" } }, { "company.name": { "eq": "Acme" } } ] }
 */
export const OPERATORS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'contains', 'icontains', 'startsWith', 'isNull'] as const;
export type Operator = (typeof OPERATORS)[number];

export type FilterNode = { and: FilterNode[] } | { or: FilterNode[] } | { path: string; op: Operator; value: unknown };

const LIMITS = { depth: 6, conditions: 200, inItems: 1000, stringLength: 10_000 };

/** System columns usable in filters and sorts, by API name. */
export const SYSTEM_FIELDS: Record<string, { column: string; type: 'uuid' | 'datetime' | 'string' }> = {
  id: { column: 'id', type: 'uuid' },
  createdAt: { column: 'created_at', type: 'datetime' },
  updatedAt: { column: 'updated_at', type: 'datetime' },
  createdBy: { column: 'created_by', type: 'string' },
  updatedBy: { column: 'updated_by', type: 'string' },
};

/**
 * The system column an API name stands for, or undefined. NB: an own-property lookup: a field
 * named like an Object prototype member (`constructor`, `toString`) must never find one.
 */
export function systemField(name: string): (typeof SYSTEM_FIELDS)[string] | undefined {
  return Object.hasOwn(SYSTEM_FIELDS, name) ? SYSTEM_FIELDS[name] : undefined;
}

const bad = (message: string): never => {
  throw recordErrors.QUERY_INVALID(message);
};

/** `filter[a][gt]=5&filter[or][0][b][eq]=x` → nested object. */
export function filterFromQuery(query: Record<string, unknown>): unknown {
  let out: Record<string, unknown> | undefined;
  for (const [key, raw] of Object.entries(query)) {
    if (key === 'filter') {
      if (typeof raw !== 'string') bad('filter must be given once, as JSON');
      try {
        out = { ...(out ?? {}), ...(JSON.parse(raw as string) as Record<string, unknown>) };
      } catch {
        bad('filter is not valid JSON');
      }
      continue;
    }
    if (!key.startsWith('filter[')) continue;
    const parts = [...key.slice('filter'.length).matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] ?? '');
    if (parts.join('').length + 2 * parts.length !== key.length - 'filter'.length || parts.length === 0 || parts.length > LIMITS.depth * 2)
      bad(`malformed filter parameter "${key.slice(0, 100)}"`);
    // NB: objects without a prototype, read by own property only, so a field named `constructor`
    // or `__proto__` is a plain key (and never reaches Object.prototype).
    out ??= Object.create(null) as Record<string, unknown>;
    let node: Record<string, unknown> = out;
    parts.forEach((p, i) => {
      if (Array.isArray(node) && !/^\d+$/.test(p)) bad(`malformed filter parameter "${key.slice(0, 100)}"`);
      if (i === parts.length - 1) node[p] = raw;
      else {
        const next = Object.hasOwn(node, p) ? node[p] : undefined;
        if (typeof next !== 'object' || next === null) node[p] = /^\d+$/.test(parts[i + 1] ?? '') ? [] : (Object.create(null) as Record<string, unknown>);
        node = node[p] as Record<string, unknown>;
      }
    });
  }
  return out;
}

export interface FilterScope {
  model: ModelDef;
  models: OrgModels;
}

/** Resolves "field" or "relation.field" (one level, either direction). */
export function resolvePath(
  scope: FilterScope,
  path: string,
): { field: FieldDef | (typeof SYSTEM_FIELDS)[string]; column: string; via?: { kind: 'forward' | 'inverse'; model: ModelDef; fk: string } } {
  const [head, tail, ...rest] = path.split('.');
  if (!head || rest.length) bad(`"${path.slice(0, 100)}": paths go at most one relation deep`);
  if (tail === undefined) {
    const sys = systemField(head!);
    if (sys) return { field: sys, column: sys.column };
    const f = scope.model.fields.find((x) => x.name === head);
    if (!f) bad(`unknown field "${head!.slice(0, 100)}" in model ${scope.model.name}`);
    return { field: f!, column: f!.name };
  }
  const rel = scope.model.fields.find((x) => x.name === head);
  let target: ModelDef | undefined;
  let via: { kind: 'forward' | 'inverse'; model: ModelDef; fk: string } | undefined;
  if (rel?.type === 'relation') {
    target = scope.models.byName.get(rel.target);
    if (target) via = { kind: 'forward', model: target, fk: rel.name };
  } else {
    const inv = inverseRelations(scope.models.byName, scope.model.name).find((i) => i.name === head);
    target = inv ? scope.models.byName.get(inv.model) : undefined;
    if (inv && target) via = { kind: 'inverse', model: target, fk: inv.field };
  }
  if (!target || !via) return bad(`"${head!.slice(0, 100)}" is not a relation of model ${scope.model.name}`);
  const inner = resolvePath({ model: target, models: scope.models }, tail);
  return { ...inner, via };
}

function asCondition(path: string, body: unknown): FilterNode[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return [{ path, op: 'eq', value: body }];
  }
  const entries = Object.entries(body as Record<string, unknown>);
  if (entries.length === 0) bad(`"${path}" has no operator`);
  return entries.map(([op, value]) => {
    if (!(OPERATORS as readonly string[]).includes(op)) bad(`unknown operator "${op.slice(0, 40)}" on "${path}" (use ${OPERATORS.join(', ')})`);
    return { path, op: op as Operator, value };
  });
}

/** Turns the object form into an AST, bounding depth and size. */
export function parseFilter(input: unknown): FilterNode | undefined {
  if (input === undefined) return undefined;
  let count = 0;
  const walk = (node: unknown, depth: number): FilterNode => {
    if (depth > LIMITS.depth) bad(`filter nests deeper than ${LIMITS.depth} levels`);
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return bad('a filter must be an object');
    const parts: FilterNode[] = [];
    for (const [key, body] of Object.entries(node as Record<string, unknown>)) {
      if (key === 'and' || key === 'or') {
        const list = Array.isArray(body) ? body : typeof body === 'object' && body !== null ? Object.values(body) : bad(`"${key}" takes a list of filters`);
        if (list.length === 0) bad(`"${key}" is empty`);
        const children = list.map((c) => walk(c, depth + 1));
        parts.push(key === 'and' ? { and: children } : { or: children });
        continue;
      }
      for (const c of asCondition(key, body)) {
        if (++count > LIMITS.conditions) bad(`a filter may hold at most ${LIMITS.conditions} conditions`);
        parts.push(c);
      }
    }
    if (parts.length === 0) bad('empty filter');
    return parts.length === 1 ? parts[0]! : { and: parts };
  };
  return walk(input, 0);
}

type ScalarKind = 'string' | 'number' | 'integer' | 'boolean' | 'date' | 'datetime' | 'uuid' | 'json' | 'array';

function kindOf(field: FieldDef | (typeof SYSTEM_FIELDS)[string]): {
  kind: ScalarKind;
  items?: 'string' | 'integer' | 'number' | 'boolean';
  values?: string[];
} {
  switch (field.type) {
    case 'string':
    case 'text':
      return { kind: 'string' };
    case 'enum':
      return { kind: 'string', values: field.values };
    case 'integer':
      return { kind: 'integer' };
    case 'number':
      return { kind: 'number' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'date':
      return { kind: 'date' };
    case 'datetime':
      return { kind: 'datetime' };
    case 'relation':
    case 'uuid':
      return { kind: 'uuid' };
    case 'json':
      return { kind: 'json' };
    case 'array':
      return { kind: 'array', items: field.items };
    default: {
      const never: never = field;
      return never;
    }
  }
}

/** Coerces one value (query strings arrive as text) to the field's type, or refuses. */
function coerce(kind: ScalarKind, raw: unknown, path: string): unknown {
  const fail = () => bad(`"${path}": ${JSON.stringify(raw)?.slice(0, 60)} is not a valid ${kind}`);
  switch (kind) {
    case 'string':
      if (typeof raw !== 'string' && typeof raw !== 'number') return fail();
      if (String(raw).length > LIMITS.stringLength) bad(`"${path}": value too long`);
      return String(raw);
    case 'integer':
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
      if (!Number.isFinite(n) || (kind === 'integer' && !Number.isSafeInteger(n))) return fail();
      return n;
    }
    case 'boolean':
      if (raw === true || raw === 'true') return true;
      if (raw === false || raw === 'false') return false;
      return fail();
    case 'date':
      if (typeof raw !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(raw) || Number.isNaN(Date.parse(raw))) return fail();
      return raw;
    case 'datetime':
      if (typeof raw !== 'string' || raw.length > 40 || Number.isNaN(Date.parse(raw))) return fail();
      return new Date(raw).toISOString();
    case 'uuid':
      if (typeof raw !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(raw)) return fail();
      return raw;
    case 'json':
    case 'array':
      return fail();
    default: {
      const never: never = kind;
      return never;
    }
  }
}

const PG_TYPE: Record<string, string> = {
  string: 'text',
  integer: 'bigint',
  number: 'double precision',
  boolean: 'boolean',
  date: 'date',
  datetime: 'timestamptz',
  uuid: 'uuid',
};

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function listOf(raw: unknown, path: string): unknown[] {
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : bad(`"${path}": in/nin take a list`);
  if (list.length > LIMITS.inItems) bad(`"${path}": at most ${LIMITS.inItems} values in a list`);
  return list;
}

function condition(scope: FilterScope, alias: string, node: { path: string; op: Operator; value: unknown }): RawBuilder<boolean> {
  const { field, column, via } = resolvePath(scope, node.path);
  const col = ident(via ? 'r' : alias, column);
  const k = kindOf(field);
  const { op, value, path } = node;
  let cond: RawBuilder<boolean>;
  if (op === 'isNull') {
    const v = coerce('boolean', value, path);
    cond = v ? sql<boolean>`${col} is null` : sql<boolean>`${col} is not null`;
  } else if (k.kind === 'array') {
    if (op !== 'contains') bad(`"${path}" is an array: use contains or isNull`);
    const items = (Array.isArray(value) ? value : [value]).map((v) => coerce(k.items!, v, path));
    cond = sql<boolean>`${col} @> ${sql.val(items)}::${sql.raw(PG_TYPE[k.items!]!)}[]`;
  } else if (k.kind === 'json') {
    return bad(`"${path}" is JSON: only isNull applies`);
  } else if (op === 'in' || op === 'nin') {
    const list = listOf(value, path).map((v) => coerce(k.kind, v, path));
    const arr = sql`${sql.val(list)}::${sql.raw(PG_TYPE[k.kind]!)}[]`;
    cond = op === 'in' ? sql<boolean>`${col} = any(${arr})` : sql<boolean>`not (${col} = any(${arr})) or ${col} is null`;
  } else if (op === 'contains' || op === 'icontains' || op === 'startsWith') {
    if (k.kind !== 'string') bad(`"${path}": ${op} applies to text fields`);
    const s = likeEscape(coerce('string', value, path) as string);
    const pattern = op === 'startsWith' ? `${s}%` : `%${s}%`;
    cond = op === 'icontains' ? sql<boolean>`${col} ilike ${pattern}` : sql<boolean>`${col} like ${pattern}`;
  } else if (value === null && (op === 'eq' || op === 'ne')) {
    cond = op === 'eq' ? sql<boolean>`${col} is null` : sql<boolean>`${col} is not null`;
  } else {
    if (k.kind === 'boolean' && op !== 'eq' && op !== 'ne') bad(`"${path}" is boolean: use eq, ne or isNull`);
    if (k.kind === 'uuid' && op !== 'eq' && op !== 'ne') bad(`"${path}" is an id: use eq, ne, in, nin or isNull`);
    const v = sql`${sql.val(coerce(k.kind, value, path))}::${sql.raw(PG_TYPE[k.kind]!)}`;
    const sym = { eq: '=', ne: 'is distinct from', gt: '>', gte: '>=', lt: '<', lte: '<=' }[op as 'eq'];
    cond = sql<boolean>`${col} ${sql.raw(sym)} ${v}`;
  }
  if (!via) return cond;
  const target = ident(scope.models.schema, via.model.name);
  return via.kind === 'forward'
    ? sql<boolean>`exists (select 1 from ${target} r where r.id = ${ident(alias, via.fk)} and (${cond}))`
    : sql<boolean>`exists (select 1 from ${target} r where ${ident('r', via.fk)} = ${ident(alias, 'id')} and (${cond}))`;
}

export function compileFilter(scope: FilterScope, alias: string, node: FilterNode): RawBuilder<boolean> {
  if ('and' in node)
    return sql<boolean>`(${sql.join(
      node.and.map((n) => compileFilter(scope, alias, n)),
      sql` and `,
    )})`;
  if ('or' in node)
    return sql<boolean>`(${sql.join(
      node.or.map((n) => compileFilter(scope, alias, n)),
      sql` or `,
    )})`;
  return sql<boolean>`(${condition(scope, alias, node)})`;
}
