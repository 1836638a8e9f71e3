import { z } from 'zod';
import type { FieldDef, ModelDef } from '../schema/index.js';
import { commonErrors } from '../../platform/errors.js';
import { findUnstorable, unstorable } from '../../platform/http/index.js';
import { compileLinearRegex, type LinearRegex } from '../../platform/regex/index.js';
import { recordErrors } from './records.errors.js';

/**
 * Zod schemas for record values, derived from a model's fields. A definition change gives a new
 * model version, and the cache key includes it.
 */
const dateOnly = z
  .string({ error: 'must be a date YYYY-MM-DD' })
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'is not a real date');
/** Text PostgreSQL can store: no U+0000, no unpaired surrogate (imports reach here without the HTTP guard). */
const UNSTORABLE = 'must be valid Unicode text without the NUL character (U+0000)';
const storable = (v: string) => unstorable(v) === null;
/** A value of the wrong type says which type the field takes (not "is required", which is for a missing one). */
const TYPE_MESSAGE = {
  string: 'must be text (a JSON string)',
  integer: 'must be an integer',
  number: 'must be a number',
  boolean: 'must be true or false',
  array: 'must be a list (a JSON array)',
} as const;
const text = () => z.string({ error: TYPE_MESSAGE.string });
const item = {
  string: text().max(100_000).refine(storable, UNSTORABLE),
  integer: z.number({ error: TYPE_MESSAGE.integer }).int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
  number: z.number({ error: TYPE_MESSAGE.number }).finite(),
  boolean: z.boolean({ error: TYPE_MESSAGE.boolean }),
} as const;

export function valueSchema(f: FieldDef): z.ZodType {
  switch (f.type) {
    case 'string':
    case 'text': {
      let s = text().max(f.type === 'string' ? 1_000_000 : 10_000_000);
      if (f.min !== undefined) s = s.min(f.min, `must be at least ${f.min} characters`);
      if (f.max !== undefined) s = s.max(f.max, `must be at most ${f.max} characters`);
      if (f.type === 'string' && f.pattern) {
        // NB: linear-time matching; a pattern saved before RE2 and not valid for it refuses every value.
        let re: LinearRegex | undefined;
        try {
          re = compileLinearRegex(f.pattern);
        } catch {
          re = undefined;
        }
        const message = re
          ? `must match ${f.pattern}`
          : `cannot be checked: the field's pattern ${f.pattern} uses backreferences or lookaround; change the pattern`;
        return s.refine(storable, UNSTORABLE).refine((v) => re?.test(v) ?? false, message);
      }
      return s.refine(storable, UNSTORABLE);
    }
    case 'integer':
    case 'number': {
      let n = f.type === 'integer' ? item.integer : item.number;
      if (f.min !== undefined) n = n.min(f.min, `must be ≥ ${f.min}`);
      if (f.max !== undefined) n = n.max(f.max, `must be ≤ ${f.max}`);
      return n;
    }
    case 'boolean':
      return item.boolean;
    case 'date':
      return dateOnly;
    case 'datetime':
      return z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' });
    case 'json':
      return z
        .union([z.record(z.string(), z.json()), z.array(z.json())], { message: 'must be a JSON object or array' })
        .refine((v) => findUnstorable(v, '') === null, UNSTORABLE);
    case 'array': {
      let a = z.array(item[f.items], { error: TYPE_MESSAGE.array });
      if (f.min !== undefined) a = a.min(f.min, `must have at least ${f.min} items`);
      if (f.max !== undefined) a = a.max(f.max, `must have at most ${f.max} items`);
      return a;
    }
    case 'enum':
      return z.enum(f.values as [string, ...string[]], { message: `must be one of ${f.values.slice(0, 20).join(', ')}` });
    case 'relation':
      return z.uuid({ message: `must be the id of a ${f.target} record` });
    default: {
      const never: never = f;
      return never;
    }
  }
}

export interface RecordSchemas {
  /** All fields; required ones must be present (create, replace). */
  full: z.ZodType<Record<string, unknown>>;
  /** Any subset (update). */
  partial: z.ZodType<Record<string, unknown>>;
}

export function recordSchemas(fields: FieldDef[]): RecordSchemas {
  const full: Record<string, z.ZodType> = {};
  const partial: Record<string, z.ZodType> = {};
  for (const f of fields) {
    const v = valueSchema(f);
    const hasDefault = 'default' in f && f.default !== undefined;
    full[f.name] = f.required ? (hasDefault ? v.optional() : v) : v.nullable().optional();
    partial[f.name] = f.required ? v.optional() : v.nullable().optional();
  }
  return { full: z.strictObject(full), partial: z.strictObject(partial) };
}

/** The value a zod issue path points at in the input (own properties only). */
function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let cur = input;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, k)) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/**
 * zod issues → `{ field, code, message }`. `input` is what was validated: a type issue on a value
 * that is absent (or null) is "is required"; on a value that is there, the field's type message
 * ("must be a number"). NB: zod 4 does not put the input on its issues, hence the lookup.
 */
export function issuesOf(err: z.ZodError, input: unknown, prefix = ''): { field: string; code: string; message: string }[] {
  return err.issues.map((i) => {
    const keys = i.code === 'unrecognized_keys' ? (i as { keys?: string[] }).keys : undefined;
    const path = i.path.map(String).join('.');
    if (keys?.length) return { field: `${prefix}${keys.join(',')}`, code: 'unknown_field', message: `unknown field(s): ${keys.join(', ')}` };
    if (i.code === 'invalid_type' && i.path.length > 0 && valueAt(input, i.path) == null)
      return { field: `${prefix}${path}`, code: 'required', message: 'is required' };
    return { field: `${prefix}${path}`, code: i.code, message: i.message };
  });
}

export type ValueIssue = { field: string; code: string; message: string };
export type ValidationMode = 'full' | 'partial';

const schemasByVersion = new Map<string, RecordSchemas>();
function schemasOf(model: ModelDef): RecordSchemas {
  const key = `${model.id}:${model.version}`;
  let s = schemasByVersion.get(key);
  if (!s) {
    if (schemasByVersion.size > 5000) schemasByVersion.clear();
    s = recordSchemas(model.fields);
    schemasByVersion.set(key, s);
  }
  return s;
}

/** What a record that is not an object of field values (a list, a number, null…) is told, on every path. */
export const NOT_AN_OBJECT: ValueIssue = { field: '', code: 'invalid_type', message: 'must be an object of field values' };

/**
 * The one check of a record's values, for every path that writes records (REST, bulk, import,
 * flows, actions, agents): `full` for a create or a replace (required fields present), `partial`
 * for an update. Returns the parsed values, or every problem as `{ field, code, message }`.
 */
export function checkValues(model: ModelDef, body: unknown, mode: ValidationMode): { values: Record<string, unknown> } | { issues: ValueIssue[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { issues: [NOT_AN_OBJECT] };
  const r = schemasOf(model)[mode].safeParse(body);
  return r.success ? { values: r.data } : { issues: issuesOf(r.error, body) };
}

/**
 * checkValues for one record, refusing with the answer of a single write: a field the model does
 * not have is a malformed request (400 VALIDATION_FAILED); values that break a field's rules are
 * 422 RECORD_INVALID.
 */
export function validateValues(model: ModelDef, body: unknown, mode: ValidationMode): Record<string, unknown> {
  const r = checkValues(model, body, mode);
  if ('values' in r) return r.values;
  const unknown = r.issues.filter((d) => d.code === 'unknown_field');
  if (unknown.length) throw commonErrors.VALIDATION_FAILED(`Model ${model.name} has no field ${unknown.map((d) => d.field).join(', ')}.`, unknown);
  const first = r.issues[0];
  throw recordErrors.RECORD_INVALID(`${r.issues.length} invalid value(s): ${first?.field || 'the record'} ${first?.message}.`, r.issues);
}
