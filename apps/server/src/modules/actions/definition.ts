import { z } from 'zod';
import { AppError } from '../../platform/errors.js';
import { type FilterNode, parseFilter, parseSort, resolvePath } from '../records/index.js';
import type { ModelDef, OrgModels } from '../schema/index.js';

/**
 * An action: declared parameters (some fixed at definition — partial application — the rest
 * supplied per run) and steps over models. Step values may reference parameters and earlier step
 * results: "{{params.email}}", "{{steps.company.id}}". A string that is exactly one reference keeps
 * the referenced value's type; references inside longer text are interpolated as text.
 */
const ident = z.string().regex(/^[a-z][a-zA-Z0-9_]{0,62}$/, 'must be an identifier');
export const paramSchema = z.strictObject({
  name: ident,
  type: z.enum(['string', 'integer', 'number', 'boolean', 'json']),
  required: z.boolean().optional(),
  description: z.string().max(500).optional(),
  default: z.json().optional(),
  value: z.json().optional().describe('fixed at definition: callers cannot change it'),
});
const values = z.record(z.string().max(63), z.json());
const step = z.discriminatedUnion('op', [
  z.strictObject({ id: ident, op: z.literal('create'), model: z.string().max(63), values }),
  z.strictObject({ id: ident, op: z.literal('update'), model: z.string().max(63), recordId: z.string().max(200), values }),
  z.strictObject({ id: ident, op: z.literal('upsert'), model: z.string().max(63), key: z.string().max(63), values }),
  z.strictObject({ id: ident, op: z.literal('delete'), model: z.string().max(63), recordId: z.string().max(200) }),
  z.strictObject({
    id: ident,
    op: z.literal('query'),
    model: z.string().max(63),
    filter: z.json().optional(),
    sort: z.string().max(200).optional(),
    limit: z.number().int().min(1).max(1000).optional(),
  }),
]);
export type Step = z.infer<typeof step>;
export type Param = z.infer<typeof paramSchema>;

export const actionCreateSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  description: z.string().max(2000).optional(),
  params: z.array(paramSchema).max(100).default([]),
  steps: z.array(step).min(1).max(50),
});
export const actionPatchSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    description: z.string().max(2000).optional(),
    params: z.array(paramSchema).max(100).optional(),
    steps: z.array(step).min(1).max(50).optional(),
  })
  .refine((p) => Object.values(p).some((v) => v !== undefined), 'give at least one change');
export type ActionCreate = z.infer<typeof actionCreateSchema>;

const REF = /\{\{\s*([a-zA-Z0-9_.]+)\s*\}\}/g;

function refsIn(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') for (const m of v.matchAll(REF)) out.push(m[1]!);
  else if (Array.isArray(v)) v.forEach((x) => refsIn(x, out));
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => refsIn(x, out));
  return out;
}

/** Every reference names a declared parameter or an earlier step; ids are unique. */
export function definitionProblems(def: { params: Param[]; steps: Step[] }): { field: string; code: string; message: string }[] {
  const problems: { field: string; code: string; message: string }[] = [];
  const params = new Set<string>();
  def.params.forEach((p, i) => {
    if (params.has(p.name)) problems.push({ field: `params.${i}.name`, code: 'duplicate', message: `parameter "${p.name}" is declared twice` });
    params.add(p.name);
  });
  const earlier = new Set<string>();
  def.steps.forEach((s, i) => {
    if (earlier.has(s.id)) problems.push({ field: `steps.${i}.id`, code: 'duplicate', message: `step id "${s.id}" is used twice` });
    for (const ref of refsIn(s)) {
      const [root, name] = ref.split('.');
      if (root === 'params' && name && params.has(name)) continue;
      if (root === 'steps' && name && earlier.has(name)) continue;
      problems.push({ field: `steps.${i}`, code: 'unknown_reference', message: `{{${ref}}} names no declared parameter or earlier step` });
    }
    earlier.add(s.id);
  });
  return problems;
}

function lookup(scope: Record<string, unknown>, path: string): unknown {
  let cur: unknown = scope;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Replaces references with values from the run's scope ({ params, steps }). */
export function resolve(v: unknown, scope: Record<string, unknown>): unknown {
  if (typeof v === 'string') {
    const whole = /^\{\{\s*([a-zA-Z0-9_.]+)\s*\}\}$/.exec(v);
    if (whole) return lookup(scope, whole[1]!) ?? null;
    return v.replace(REF, (_m, path: string) => {
      const x = lookup(scope, path);
      return x === undefined || x === null ? '' : typeof x === 'string' ? x : JSON.stringify(x);
    });
  }
  if (Array.isArray(v)) return v.map((x) => resolve(x, scope));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x, scope)]));
  return v;
}

const typeCheck: Record<Param['type'], z.ZodType> = {
  string: z.string().max(100_000),
  integer: z.number().int(),
  number: z.number().finite(),
  boolean: z.boolean(),
  json: z.json(),
};

/** The run's parameters: fixed values, then given ones, then defaults; each checked against its type. */
export function bindParams(declared: Param[], given: Record<string, unknown>) {
  const problems: { field: string; code: string; message: string }[] = [];
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(given))
    if (!declared.some((p) => p.name === k)) problems.push({ field: k, code: 'unknown_param', message: 'is not a parameter of this action' });
  for (const p of declared) {
    if (p.value !== undefined) {
      if (p.name in given) problems.push({ field: p.name, code: 'fixed_param', message: 'is fixed by the action and cannot be given' });
      out[p.name] = p.value;
      continue;
    }
    const v = p.name in given ? given[p.name] : p.default;
    if (v === undefined || v === null) {
      if (p.required) problems.push({ field: p.name, code: 'required', message: 'is required' });
      out[p.name] = null;
      continue;
    }
    const r = typeCheck[p.type].safeParse(v);
    if (!r.success) problems.push({ field: p.name, code: 'invalid_type', message: `must be ${p.type}` });
    out[p.name] = v;
  }
  return { params: out, problems };
}

type Problem = { field: string; code: string; message: string };

/** The message of a records query error (unknown field, bad path); anything else is rethrown. */
function queryProblem(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof AppError && err.status < 500) return err.message;
    throw err;
  }
}

function filterPaths(node: FilterNode, out: string[] = []): string[] {
  if ('and' in node) node.and.forEach((n) => filterPaths(n, out));
  else if ('or' in node) node.or.forEach((n) => filterPaths(n, out));
  else out.push(node.path);
  return out;
}

/**
 * Every step names a model of the organization and, in its values, key, filter and sort, fields
 * of that model: checked when the action is defined, not first discovered when it runs.
 */
export function modelProblems(def: { steps: Step[] }, models: OrgModels): Problem[] {
  const problems: Problem[] = [];
  def.steps.forEach((s, i) => {
    const at = `steps.${i}`;
    const model: ModelDef | undefined = models.byName.get(s.model);
    if (!model) {
      problems.push({ field: `${at}.model`, code: 'unknown_model', message: `step "${s.id}" names no model "${s.model.slice(0, 63)}" of this organization` });
      return;
    }
    const has = (name: string) => model.fields.some((f) => f.name === name);
    if ('values' in s) {
      for (const k of Object.keys(s.values))
        if (!has(k))
          problems.push({ field: `${at}.values.${k}`, code: 'unknown_field', message: `step "${s.id}": model ${model.name} has no field "${k.slice(0, 63)}"` });
    }
    if (s.op === 'upsert' && !model.fields.some((f) => f.name === s.key && f.unique))
      problems.push({
        field: `${at}.key`,
        code: 'unknown_field',
        message: `step "${s.id}": upsert key "${s.key.slice(0, 63)}" must be a unique field of ${model.name}`,
      });
    if (s.op === 'query') {
      // A filter given whole by reference ("{{params.filter}}") is checked when it runs.
      if (s.filter !== undefined && typeof s.filter === 'object' && s.filter !== null) {
        const why = queryProblem(() => {
          const node = parseFilter(s.filter);
          for (const path of node ? filterPaths(node) : []) resolvePath({ model, models }, path);
        });
        if (why) problems.push({ field: `${at}.filter`, code: 'invalid_filter', message: `step "${s.id}": ${why}` });
      }
      const why = s.sort === undefined ? undefined : queryProblem(() => parseSort(model, s.sort));
      if (why) problems.push({ field: `${at}.sort`, code: 'invalid_sort', message: `step "${s.id}": ${why}` });
    }
  });
  return problems;
}
