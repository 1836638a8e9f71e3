import { type ReactNode, useEffect, useId, useState } from 'react';
import type { JsonSchema, RefKind } from './types';

/** How one parameter is edited, derived from its JSON Schema alone. */
export type FieldKind = 'ref' | 'enum' | 'boolean' | 'number' | 'text' | 'longtext' | 'multi' | 'lines' | 'group' | 'json';

export interface FieldSpec {
  name: string;
  path: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  schema: JsonSchema;
  options?: string[];
  ref?: RefKind;
  children?: FieldSpec[];
}

/** Parameters whose text is usually long (code, prompts, expressions): a text area. */
const LONG_TEXT = /^(expression|source|template|system|prompt|message|text|body|condition)$/;

const typesOf = (s: JsonSchema): string[] => (Array.isArray(s.type) ? s.type : s.type ? [s.type] : []);

export function fieldKind(name: string, s: JsonSchema): Omit<FieldSpec, 'name' | 'path' | 'label' | 'required' | 'schema'> {
  if (s['x-ref']) return { kind: 'ref', ref: s['x-ref'] };
  const types = typesOf(s);
  if (s.enum && types.every((t) => t === 'string')) return { kind: 'enum', options: s.enum.map(String) };
  if (types.length === 1) {
    const [t] = types;
    if (t === 'boolean') return { kind: 'boolean' };
    if (t === 'integer' || t === 'number') return { kind: 'number' };
    if (t === 'string') return { kind: LONG_TEXT.test(name) || (s as { maxLength?: number }).maxLength! > 2000 ? 'longtext' : 'text' };
    if (t === 'array' && s.items?.enum) return { kind: 'multi', options: s.items.enum.map(String) };
    if (t === 'array' && typesOf(s.items ?? {}).join() === 'string') return { kind: 'lines' };
    if (t === 'object' && s.properties && Object.keys(s.properties).length) return { kind: 'group' };
  }
  return { kind: 'json' };
}

/** The fields of an object schema, in declaration order, nested objects as groups. */
export function fieldsOf(schema: JsonSchema, prefix = ''): FieldSpec[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, s]) => {
    const k = fieldKind(name, s);
    const path = prefix ? `${prefix}.${name}` : name;
    return { name, path, label: labelOf(name), required: required.has(name), schema: s, ...k, ...(k.kind === 'group' ? { children: fieldsOf(s, path) } : {}) };
  });
}

const labelOf = (name: string) => name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());

/** Whether a JSON field may hold plain text too (its schema accepts strings, or anything). */
const acceptsText = (s: JsonSchema) => typesOf(s).length === 0 || typesOf(s).includes('string') || Boolean(s.anyOf?.some((a) => typesOf(a).includes('string')));

const isExpression = (v: unknown) => typeof v === 'string' && v.includes('{{');
/** A scalar as text ('' for nothing; JSON for anything else). */
const textOf = (v: unknown): string =>
  v === undefined || v === null ? '' : typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);

export type RefOptions = Partial<Record<RefKind, { value: string; label: string }[]>>;

const inputClass =
  'w-full rounded-md border border-zinc-300 bg-white px-2 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900 aria-[invalid=true]:border-red-600';

/**
 * A form generated from a node's parameter JSON Schema: selects for enums and references (vault
 * secrets, models, flows, agents, actions), number boxes that also take an `{{ expression }}`,
 * text areas for code and prompts, checkboxes, one-per-line lists, nested groups, and JSON for
 * the rest. Server-side problems (by field path) show under their field.
 */
export function SchemaForm({
  schema,
  value,
  onChange,
  errors = {},
  refs = {},
  readOnly = false,
}: {
  schema: JsonSchema;
  value: Record<string, unknown>;
  onChange: (next: Record<string, unknown>) => void;
  errors?: Record<string, string>;
  refs?: RefOptions;
  readOnly?: boolean;
}) {
  const set = (name: string, v: unknown) => {
    const next = { ...value };
    if (v === undefined || v === '') delete next[name];
    else next[name] = v;
    onChange(next);
  };
  return (
    <div className="flex flex-col gap-3">
      {fieldsOf(schema).map((f) => (
        <ParamField key={f.path} field={f} value={value[f.name]} onChange={(v) => set(f.name, v)} errors={errors} refs={refs} readOnly={readOnly} />
      ))}
    </div>
  );
}

function ParamField({
  field: f,
  value,
  onChange,
  errors,
  refs,
  readOnly,
}: {
  field: FieldSpec;
  value: unknown;
  onChange: (v: unknown) => void;
  errors: Record<string, string>;
  refs: RefOptions;
  readOnly: boolean;
}) {
  const id = useId();
  const error = errors[f.path];
  const aria = {
    id,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': error ? `${id}-err` : f.schema.description ? `${id}-hint` : undefined,
    'aria-required': f.required || undefined,
    disabled: readOnly,
  };
  const placeholder = f.schema.default !== undefined && typeof f.schema.default !== 'object' ? textOf(f.schema.default) : undefined;
  let control: ReactNode;
  switch (f.kind) {
    case 'group':
      return (
        <fieldset className="flex flex-col gap-3 rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
          <legend className="px-1 text-sm font-medium">{f.label}</legend>
          <SchemaForm
            schema={f.schema}
            value={(value as Record<string, unknown> | undefined) ?? {}}
            onChange={(v) => onChange(Object.keys(v).length ? v : undefined)}
            errors={Object.fromEntries(
              Object.entries(errors)
                .filter(([k]) => k.startsWith(`${f.path}.`))
                .map(([k, m]) => [k.slice(f.path.length + 1), m]),
            )}
            refs={refs}
            readOnly={readOnly}
          />
        </fieldset>
      );
    case 'boolean':
      return (
        <div className="flex items-center gap-2">
          <input type="checkbox" {...aria} checked={Boolean(value ?? f.schema.default)} onChange={(e) => onChange(e.target.checked)} />
          <label htmlFor={id} className="text-sm">
            {f.label}
          </label>
          {error && <FieldError id={`${id}-err`}>{error}</FieldError>}
        </div>
      );
    case 'ref':
    case 'enum': {
      const options = f.kind === 'enum' ? f.options!.map((o) => ({ value: o, label: o })) : (refs[f.ref!] ?? []);
      const current = typeof value === 'string' ? value : '';
      control = (
        <select className={inputClass} {...aria} value={current} onChange={(e) => onChange(e.target.value || undefined)}>
          <option value="">{f.kind === 'enum' && placeholder ? `default (${placeholder})` : f.required ? `choose a ${f.ref ?? 'value'}…` : 'none'}</option>
          {current && !options.some((o) => o.value === current) && <option value={current}>{current}</option>}
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      );
      break;
    }
    case 'number':
      control = <NumberBox aria={aria} value={value} placeholder={placeholder} onChange={onChange} />;
      break;
    case 'text':
      control = <input className={inputClass} {...aria} value={textOf(value)} placeholder={placeholder} onChange={(e) => onChange(e.target.value)} />;
      break;
    case 'longtext':
      control = (
        <textarea
          className={`${inputClass} font-mono`}
          rows={f.name === 'source' ? 8 : 4}
          {...aria}
          value={typeof value === 'string' ? value : ''}
          placeholder={placeholder}
          onChange={(e) => onChange(e.target.value)}
        />
      );
      break;
    case 'multi': {
      const chosen = new Set(Array.isArray(value) ? (value as string[]) : ((f.schema.default as string[] | undefined) ?? []));
      return (
        <fieldset className="flex flex-col gap-1" aria-describedby={error ? `${id}-err` : undefined}>
          <legend className="text-sm font-medium">{f.label}</legend>
          <div className="flex flex-wrap gap-3">
            {f.options!.map((o) => (
              <label key={o} className="flex items-center gap-1 text-sm">
                <input
                  type="checkbox"
                  disabled={readOnly}
                  checked={chosen.has(o)}
                  onChange={(e) => onChange(f.options!.filter((x) => (x === o ? e.target.checked : chosen.has(x))))}
                />
                {o}
              </label>
            ))}
          </div>
          {error && <FieldError id={`${id}-err`}>{error}</FieldError>}
        </fieldset>
      );
    }
    case 'lines':
      control = (
        <textarea
          className={`${inputClass} font-mono`}
          rows={3}
          {...aria}
          value={Array.isArray(value) ? (value as string[]).join('\n') : ''}
          onChange={(e) => onChange(e.target.value ? e.target.value.split('\n') : undefined)}
        />
      );
      break;
    default:
      control = <JsonBox aria={aria} value={value} text={acceptsText(f.schema)} onChange={onChange} />;
  }
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="flex items-center gap-2 text-sm font-medium">
        {f.label}
        {f.required && (
          <span aria-hidden="true" className="text-red-700 dark:text-red-400">
            *
          </span>
        )}
        {isExpression(value) && (
          <span className="rounded bg-violet-100 px-1 text-[10px] font-semibold text-violet-800 dark:bg-violet-900 dark:text-violet-100">expression</span>
        )}
      </label>
      {control}
      {f.schema.description && !error && (
        <p id={`${id}-hint`} className="text-xs text-zinc-600 dark:text-zinc-400">
          {f.schema.description}
        </p>
      )}
      {error && <FieldError id={`${id}-err`}>{error}</FieldError>}
    </div>
  );
}

function FieldError({ id, children }: { id: string; children: ReactNode }) {
  return (
    <p id={id} role="alert" className="text-xs text-red-700 dark:text-red-400">
      {children}
    </p>
  );
}

type Aria = Record<string, unknown>;

/** A number, or an `{{ expression }}` that gives one at run time. */
function NumberBox({ aria, value, placeholder, onChange }: { aria: Aria; value: unknown; placeholder: string | undefined; onChange: (v: unknown) => void }) {
  const [text, setText] = useState(textOf(value));
  const [bad, setBad] = useState(false);
  useEffect(() => setText((t) => (parseNumber(t) === value ? t : textOf(value))), [value]);
  return (
    <>
      <input
        className={inputClass}
        inputMode="decimal"
        {...aria}
        aria-invalid={bad || aria['aria-invalid'] ? true : undefined}
        value={text}
        placeholder={placeholder}
        onChange={(e) => {
          setText(e.target.value);
          const v = parseNumber(e.target.value);
          setBad(v === null);
          if (v !== null) onChange(v);
        }}
      />
      {bad && <p className="text-xs text-red-700 dark:text-red-400">A number, or an expression such as {'{{ $input.count }}'}.</p>}
    </>
  );
}

/** '' → undefined, '12.5' → 12.5, '{{ … }}' → the expression; anything else null (invalid). */
export function parseNumber(text: string): number | string | undefined | null {
  const t = text.trim();
  if (t === '') return undefined;
  if (t.includes('{{')) return t;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/** JSON; fields that accept text also keep what is not JSON (an expression, a sentence) as text. */
function JsonBox({ aria, value, text: textOk, onChange }: { aria: Aria; value: unknown; text: boolean; onChange: (v: unknown) => void }) {
  const show = (v: unknown) => (v === undefined ? '' : typeof v === 'string' && textOk ? v : JSON.stringify(v, null, 2));
  const [text, setText] = useState(show(value));
  const [bad, setBad] = useState(false);
  useEffect(() => setText((t) => (sameValue(parseJson(t, textOk), value) ? t : show(value))), [value]);
  return (
    <>
      <textarea
        className={`${inputClass} font-mono`}
        rows={3}
        {...aria}
        aria-invalid={bad || aria['aria-invalid'] ? true : undefined}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          const v = parseJson(e.target.value, textOk);
          setBad(v === INVALID);
          if (v !== INVALID) onChange(v);
        }}
      />
      {bad && <p className="text-xs text-red-700 dark:text-red-400">Not valid JSON.</p>}
    </>
  );
}

const INVALID = Symbol('invalid');
export function parseJson(text: string, textOk: boolean): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return textOk || text.includes('{{') ? text : INVALID;
  }
}
const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
