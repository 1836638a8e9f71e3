/**
 * Make's parameter arrays (a module's static and mappable parameters, a webhook's and a
 * connection's parameters) and interfaces, as Make's form and output panel read them: `rpc://`
 * entries are run (the dynamic fields from a model's definition), select options come from their
 * RPC, a chosen option's `nested` parameters join the form. The values a test fills in are
 * checked the way the form checks them (required, type, option, bounds; no value without a
 * parameter), and a module's outputs against its interface (no key it does not declare, each value
 * of its declared type). An unknown parameter key or type is an error.
 */
import { type At, type Code, child, isRecord, onlyKeys } from './app.js';
import type { Scope } from './iml.js';
import { type Runtime, communicate } from './request.js';

export interface Param {
  name: string;
  type: string;
  label?: string;
  help?: string;
  required?: boolean;
  default?: unknown;
  advanced?: boolean;
  multiple?: boolean;
  multiline?: boolean;
  options?: unknown;
  spec?: unknown;
  validate?: { min?: number; max?: number };
  /** Where the parameter sits in the app, for its own rpc:// references. */
  at: At;
}

const KEYS = ['name', 'type', 'label', 'help', 'required', 'default', 'advanced', 'multiple', 'multiline', 'options', 'spec', 'validate'];
const TYPES = ['text', 'password', 'url', 'select', 'uinteger', 'integer', 'number', 'boolean', 'date', 'any', 'array', 'collection'];

const isEmpty = (v: unknown) => v === undefined || v === null || v === '';

/** The context an RPC runs in: the connection, the form's values so far, the webhook (instant triggers). */
export interface FormContext {
  connection: Record<string, unknown>;
  parameters: Record<string, unknown>;
  webhook?: Record<string, unknown>;
}

/** Runs an RPC by name with the form's current values; its outputs are its items. */
export async function runRpc(rt: Runtime, name: string, ctx: FormContext): Promise<unknown[]> {
  const rpc = rt.app.rpcs[name];
  if (!rpc) throw new Error(`unknown RPC ${name}`);
  const scope: Scope = { connection: ctx.connection, parameters: ctx.parameters, webhook: ctx.webhook };
  return (await communicate(rt, rpc.communication, scope, { base: true })).outputs;
}

function rpcName(s: string, where: string): string {
  const m = /^rpc:\/\/([A-Za-z][A-Za-z0-9]*)$/.exec(s);
  if (!m) throw new Error(`${where}: "${s}" is not an rpc:// reference`);
  return m[1]!;
}

function toParam(v: unknown, at: At): Param {
  if (!isRecord(v)) throw new Error(`${at.file}${at.ptr}: a parameter is an object, got ${JSON.stringify(v)}`);
  onlyKeys(v, KEYS, `${at.file}${at.ptr}`);
  if (typeof v.name !== 'string' || typeof v.type !== 'string') throw new Error(`${at.file}${at.ptr}: name and type are required`);
  if (!TYPES.includes(v.type)) throw new Error(`${at.file}${at.ptr}: parameter type "${v.type}" is not known to the test`);
  return { ...(v as Omit<Param, 'at'>), at };
}

/** A parameter array with its rpc:// entries run: the parameters Make's form shows. */
export async function resolveParams(rt: Runtime, list: unknown, at: At, ctx: FormContext): Promise<Param[]> {
  const items = typeof list === 'string' ? [list] : list;
  if (!Array.isArray(items)) throw new Error(`${at.file}${at.ptr}: parameters are an array`);
  const out: Param[] = [];
  for (const [i, entry] of items.entries()) {
    const eAt = typeof list === 'string' ? at : child(at, i);
    if (typeof entry === 'string') {
      rt.cov.mark(eAt.file, eAt.ptr);
      const name = rpcName(entry, eAt.file);
      // An RPC's items are parameters of its own making (no location of their own in the app).
      for (const p of await runRpc(rt, name, ctx)) out.push(toParam(p, { file: `rpc://${name}`, ptr: '' }));
    } else out.push(toParam(entry, eAt));
  }
  return out;
}

export const codeAt = (c: Code): At => ({ file: c.file, ptr: '' });

/** A select's options (an array, an rpc:// string, or {store, nested}) and its nested parameters. */
async function optionsOf(rt: Runtime, p: Param, ctx: FormContext): Promise<{ options: Record<string, unknown>[]; nested?: unknown; nestedAt?: At }> {
  const oAt = child(p.at, 'options');
  const fromStore = async (store: unknown, sAt: At) => {
    if (typeof store === 'string') {
      if (!p.at.file.startsWith('rpc://')) rt.cov.mark(sAt.file, sAt.ptr);
      return (await runRpc(rt, rpcName(store, sAt.file), ctx)).map((o) => {
        if (!isRecord(o)) throw new Error(`options of ${p.name}: an option is an object`);
        return o;
      });
    }
    if (!Array.isArray(store)) throw new Error(`options of ${p.name} must be an array or an rpc:// reference`);
    return store as Record<string, unknown>[];
  };
  const o = p.options;
  if (isRecord(o)) {
    onlyKeys(o, ['store', 'nested'], `options of ${p.name}`);
    return { options: await fromStore(o.store, child(oAt, 'store')), nested: o.nested, nestedAt: child(oAt, 'nested') };
  }
  return { options: await fromStore(o, oAt) };
}

function typeError(p: Param, v: unknown, what: string, path: string): never {
  throw new Error(`${path}${p.name}: ${JSON.stringify(v)} is not ${what} (a ${p.type} parameter)`);
}

/** Checks one value against a parameter's type (outputs and inputs alike). */
async function checkType(rt: Runtime, p: Param, v: unknown, ctx: FormContext, path: string): Promise<void> {
  switch (p.type) {
    case 'text':
    case 'password':
    case 'url':
      if (typeof v !== 'string') typeError(p, v, 'text', path);
      if (p.type === 'url' && !/^https?:\/\/\S+$/.test(v)) typeError(p, v, 'a URL', path);
      return;
    case 'uinteger':
    case 'integer':
      if (!Number.isInteger(v) || (p.type === 'uinteger' && (v as number) < 0)) typeError(p, v, 'an integer', path);
      return checkBounds(p, v as number, path);
    case 'number':
      if (typeof v !== 'number') typeError(p, v, 'a number', path);
      return checkBounds(p, v, path);
    case 'boolean':
      if (typeof v !== 'boolean') typeError(p, v, 'a boolean', path);
      return;
    case 'date':
      if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) typeError(p, v, 'a date', path);
      return;
    case 'any':
      return;
    case 'select':
      return;
    case 'array': {
      if (!Array.isArray(v)) typeError(p, v, 'an array', path);
      if (p.spec === undefined) return;
      if (Array.isArray(p.spec)) {
        const spec = await resolveParams(rt, p.spec, child(p.at, 'spec'), ctx);
        for (const [i, item] of v.entries()) await checkCollection(rt, spec, item, ctx, `${path}${p.name}[${i + 1}].`);
      } else {
        const one = toParam({ name: 'item', ...(p.spec as object) }, child(p.at, 'spec'));
        for (const item of v) await checkType(rt, one, item, ctx, `${path}${p.name}[].`);
      }
      return;
    }
    case 'collection':
      if (!isRecord(v)) typeError(p, v, 'a collection', path);
      if (p.spec !== undefined) await checkCollection(rt, await resolveParams(rt, p.spec, child(p.at, 'spec'), ctx), v, ctx, `${path}${p.name}.`);
      return;
    default:
      throw new Error(`parameter type ${p.type} is not known to the test`);
  }
}

function checkBounds(p: Param, v: number, path: string): void {
  if (p.validate?.min !== undefined && v < p.validate.min) throw new Error(`${path}${p.name}: ${v} is below ${p.validate.min}`);
  if (p.validate?.max !== undefined && v > p.validate.max) throw new Error(`${path}${p.name}: ${v} is above ${p.validate.max}`);
}

/** An object whose every key is a parameter of `spec`, each value of its type (null: not set). */
async function checkCollection(rt: Runtime, spec: Param[], v: unknown, ctx: FormContext, path: string): Promise<void> {
  if (!isRecord(v)) throw new Error(`${path}: ${JSON.stringify(v)} is not a collection`);
  for (const [k, x] of Object.entries(v)) {
    const p = spec.find((s) => s.name === k);
    if (!p) throw new Error(`${path}${k}: not declared (declared: ${spec.map((s) => s.name).join(', ')})`);
    if (x !== null && x !== undefined) await checkType(rt, p, x, ctx, path);
  }
}

/** Checks a module's output bundle against its interface. */
export async function checkOutput(rt: Runtime, iface: Param[], bundle: unknown, ctx: FormContext): Promise<void> {
  await checkCollection(rt, iface, bundle, ctx, '');
}

/**
 * What Make's form makes of the values a user fills in: defaults applied, every parameter checked,
 * selects against their options, chosen options' nested parameters joined, nothing undeclared.
 * Returns `parameters` as the module's communication sees them.
 */
export async function fillForm(rt: Runtime, params: Param[], values: Record<string, unknown>, ctx: FormContext): Promise<Record<string, unknown>> {
  const filled: Record<string, unknown> = {};
  const declared = new Set<string>();
  const form: FormContext = { ...ctx, parameters: filled };
  const visit = async (list: Param[]) => {
    for (const p of list) {
      declared.add(p.name);
      const v = values[p.name] !== undefined ? values[p.name] : p.default;
      if (isEmpty(v) || (Array.isArray(v) && v.length === 0)) {
        if (p.required) throw new Error(`${p.name} is required`);
        continue;
      }
      filled[p.name] = v;
      if (p.type !== 'select') {
        await checkType(rt, p, v, form, '');
        continue;
      }
      const { options, nested, nestedAt } = await optionsOf(rt, p, form);
      const chosen = p.multiple ? (Array.isArray(v) ? v : typeError(p, v, 'a list of options', '')) : [v];
      for (const c of chosen) if (!options.some((o) => o.value === c)) throw new Error(`${p.name}: ${JSON.stringify(c)} is not one of its options`);
      if (nested !== undefined) await visit(await resolveParams(rt, nested, nestedAt!, form));
    }
  };
  await visit(params);
  for (const k of Object.keys(values)) if (!declared.has(k)) throw new Error(`${k}: no such parameter in this form (has ${[...declared].join(', ')})`);
  return filled;
}
