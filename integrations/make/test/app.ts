/**
 * The Make app as the VS Code extension's local project holds it: `makecomapp.json` names every
 * component and the file of each of its codes. Loading checks that structure strictly (known
 * component and code kinds only, every named file present, no file left out), parses every
 * JSON file, compiles every IML expression (an unknown function or syntax fails here), and lists
 * every IML string by file and JSON pointer so a run can prove it evaluated each one.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { type Scope, compile, evalString, hasIml } from './iml.js';

export const APP_ROOT = path.resolve(import.meta.dirname, '../src');

/** One code file: its path (relative to the app root) and parsed JSON. */
export interface Code {
  file: string;
  json: unknown;
}

export interface ModuleDef {
  label: string;
  moduleType: 'instant_trigger' | 'search' | 'action';
  actionCrud?: string | null;
  webhook?: string;
  communication: Code;
  staticParams: Code;
  mappableParams: Code;
  interface: Code;
  samples: Code;
}

export interface App {
  base: Code;
  groups: Code;
  connection: { communication: Code; params: Code };
  webhook: { communication: Code; params: Code; attach: Code; detach: Code; update: Code };
  modules: Record<string, ModuleDef>;
  rpcs: Record<string, { communication: Code; params: Code }>;
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A key the test's interpreter does not know is an error (it would otherwise be skipped). */
export function onlyKeys(obj: Record<string, unknown>, allowed: string[], where: string): void {
  for (const k of Object.keys(obj))
    if (!allowed.includes(k)) throw new Error(`${where}: unknown key "${k}", which the test's interpreter does not know (known: ${allowed.join(', ')})`);
}

/** Every file under the app root except the extension's own secrets folder. */
function filesUnder(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) return e.name === '.secrets' ? [] : filesUnder(dir, r);
    return [r];
  });
}

/** Every string holding IML (`{{`) or an RPC reference (`rpc://`), by JSON pointer. */
function imlStrings(v: unknown, ptr: string, out: string[]): void {
  if (typeof v === 'string') {
    if (hasIml(v)) {
      compile(v);
      out.push(ptr);
    } else if (v.startsWith('rpc://')) out.push(ptr);
  } else if (Array.isArray(v)) v.forEach((x, i) => imlStrings(x, `${ptr}/${i}`, out));
  else if (isRecord(v)) for (const [k, x] of Object.entries(v)) imlStrings(x, `${ptr}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`, out);
}

/** Which IML strings a run evaluated: the test fails on any it did not. */
export class Coverage {
  readonly all = new Set<string>();
  readonly seen = new Set<string>();
  add(code: Code): void {
    const ptrs: string[] = [];
    imlStrings(code.json, '', ptrs);
    for (const p of ptrs) this.all.add(`${code.file}#${p}`);
  }
  mark(file: string, ptr: string): void {
    const key = `${file}#${ptr}`;
    if (!this.all.has(key)) throw new Error(`evaluated ${key}, which the app does not hold`);
    this.seen.add(key);
  }
  unvisited(): string[] {
    return [...this.all].filter((k) => !this.seen.has(k)).sort();
  }
}

/** Where a value sits in the app, to mark its IML strings as evaluated. */
export interface At {
  file: string;
  ptr: string;
}

export const child = (at: At, key: string | number): At => ({ file: at.file, ptr: `${at.ptr}/${key}` });

/** Evaluates every IML string in a value (deeply); keys whose value comes out undefined are dropped, as in JSON. */
export function evalDeep(v: unknown, scope: Scope, at: At, cov: Coverage): unknown {
  if (typeof v === 'string') {
    if (!hasIml(v)) return v;
    cov.mark(at.file, at.ptr);
    return evalString(v, scope);
  }
  if (Array.isArray(v)) return v.map((x, i) => evalDeep(x, scope, child(at, i), cov));
  if (isRecord(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const r = evalDeep(x, scope, child(at, k), cov);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return v;
}

function readCode(root: string, file: unknown, where: string, used: Set<string>): Code {
  if (typeof file !== 'string') throw new Error(`${where}: a code file path is required`);
  used.add(file);
  const text = readFileSync(path.join(root, file), 'utf8');
  try {
    return { file, json: JSON.parse(text) as unknown };
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${String(err)}`);
  }
}

const MODULE_CODES = ['communication', 'staticParams', 'mappableParams', 'interface', 'samples'] as const;

/** Reads and checks the local project under `root` (default: integrations/make/src). */
export function loadApp(root = APP_ROOT, cov = new Coverage()): { app: App; cov: Coverage; files: string[] } {
  const used = new Set<string>(['makecomapp.json']);
  const manifest = JSON.parse(readFileSync(path.join(root, 'makecomapp.json'), 'utf8')) as unknown;
  if (!isRecord(manifest)) throw new Error('makecomapp.json must hold an object');
  onlyKeys(manifest, ['fileVersion', 'generalCodeFiles', 'components', 'origins'], 'makecomapp.json');
  if (manifest.fileVersion !== 1) throw new Error('makecomapp.json: fileVersion must be 1');
  const general = manifest.generalCodeFiles;
  const components = manifest.components;
  if (!isRecord(general) || !isRecord(components)) throw new Error('makecomapp.json: generalCodeFiles and components are required');
  onlyKeys(general, ['base', 'common', 'readme', 'groups'], 'generalCodeFiles');
  onlyKeys(components, ['connection', 'webhook', 'module', 'rpc', 'function', 'endpoint'], 'components');
  if (typeof general.readme === 'string') used.add(general.readme);
  const entries = (kind: string) => {
    const c = components[kind];
    if (!isRecord(c)) throw new Error(`components.${kind} must be an object`);
    return Object.entries(c).map(([id, meta]) => {
      if (!isRecord(meta) || !isRecord(meta.codeFiles)) throw new Error(`components.${kind}.${id}: codeFiles is required`);
      return { id, meta, codes: meta.codeFiles };
    });
  };
  for (const kind of ['function', 'endpoint']) if (entries(kind).length > 0) throw new Error(`components.${kind}: this app has none, and the test runs none`);

  const conns = entries('connection');
  if (conns.length !== 1) throw new Error('the app has exactly one connection');
  const conn = conns[0]!;
  onlyKeys(conn.meta, ['label', 'connectionType', 'codeFiles'], `connection ${conn.id}`);
  onlyKeys(conn.codes, ['communication', 'params', 'common'], `connection ${conn.id} codeFiles`);
  if (conn.meta.connectionType !== 'basic') throw new Error('the connection is a basic (API key) one');
  const connectionOf = (where: string, meta: Record<string, unknown>) => {
    if (meta.connection !== conn.id) throw new Error(`${where}: connection must be "${conn.id}"`);
  };

  const hooks = entries('webhook');
  if (hooks.length !== 1) throw new Error('the app has exactly one webhook');
  const hook = hooks[0]!;
  onlyKeys(hook.meta, ['label', 'webhookType', 'connection', 'codeFiles'], `webhook ${hook.id}`);
  onlyKeys(hook.codes, ['communication', 'params', 'attach', 'detach', 'update'], `webhook ${hook.id} codeFiles`);
  connectionOf(`webhook ${hook.id}`, hook.meta);
  const w = (c: string) => readCode(root, hook.codes[c], `webhook ${hook.id}.${c}`, used);

  const modules: Record<string, ModuleDef> = {};
  for (const { id, meta, codes } of entries('module')) {
    onlyKeys(meta, ['label', 'description', 'moduleType', 'actionCrud', 'connection', 'webhook', 'codeFiles'], `module ${id}`);
    onlyKeys(codes, [...MODULE_CODES], `module ${id} codeFiles`);
    connectionOf(`module ${id}`, meta);
    const type = meta.moduleType;
    if (type !== 'instant_trigger' && type !== 'search' && type !== 'action')
      throw new Error(`module ${id}: moduleType ${String(type)} is not run by the test`);
    if ((type === 'instant_trigger') !== (meta.webhook !== undefined)) throw new Error(`module ${id}: an instant trigger (and only it) names its webhook`);
    if (meta.webhook !== undefined && meta.webhook !== hook.id) throw new Error(`module ${id}: unknown webhook ${String(meta.webhook)}`);
    const read = (c: (typeof MODULE_CODES)[number]) => readCode(root, codes[c], `module ${id}.${c}`, used);
    modules[id] = {
      label: String(meta.label),
      moduleType: type,
      actionCrud: meta.actionCrud as string | null | undefined,
      ...(typeof meta.webhook === 'string' ? { webhook: meta.webhook } : {}),
      communication: read('communication'),
      staticParams: read('staticParams'),
      mappableParams: read('mappableParams'),
      interface: read('interface'),
      samples: read('samples'),
    };
  }
  const rpcs: App['rpcs'] = {};
  for (const { id, meta, codes } of entries('rpc')) {
    onlyKeys(meta, ['label', 'connection', 'codeFiles'], `rpc ${id}`);
    onlyKeys(codes, ['communication', 'params'], `rpc ${id} codeFiles`);
    connectionOf(`rpc ${id}`, meta);
    rpcs[id] = { communication: readCode(root, codes.communication, `rpc ${id}`, used), params: readCode(root, codes.params, `rpc ${id}`, used) };
  }

  const app: App = {
    base: readCode(root, general.base, 'generalCodeFiles.base', used),
    groups: readCode(root, general.groups, 'generalCodeFiles.groups', used),
    connection: {
      communication: readCode(root, conn.codes.communication, 'connection.communication', used),
      params: readCode(root, conn.codes.params, 'connection.params', used),
    },
    webhook: { communication: w('communication'), params: w('params'), attach: w('attach'), detach: w('detach'), update: w('update') },
    modules,
    rpcs,
  };
  checkGroups(app);
  const files = filesUnder(root);
  const orphans = files.filter((f) => !used.has(f));
  if (orphans.length > 0) throw new Error(`files no component names in makecomapp.json: ${orphans.join(', ')}`);
  for (const c of allCodes(app)) cov.add(c);
  return { app, cov, files };
}

export function allCodes(app: App): Code[] {
  return [
    app.base,
    app.groups,
    ...Object.values(app.connection),
    ...Object.values(app.webhook),
    ...Object.values(app.modules).flatMap((m) => MODULE_CODES.map((c) => m[c])),
    ...Object.values(app.rpcs).flatMap((r) => [r.communication, r.params]),
  ];
}

/** Every module in exactly one group, and groups name only modules there are. */
function checkGroups(app: App): void {
  const groups = app.groups.json;
  if (!Array.isArray(groups)) throw new Error('groups.json must hold an array');
  const seen: string[] = [];
  for (const g of groups) {
    if (!isRecord(g) || typeof g.label !== 'string' || !Array.isArray(g.modules)) throw new Error('a group is {label, modules}');
    onlyKeys(g, ['label', 'modules'], 'group');
    for (const m of g.modules) {
      if (typeof m !== 'string' || !app.modules[m]) throw new Error(`group ${g.label} names unknown module ${String(m)}`);
      seen.push(m);
    }
  }
  const missing = Object.keys(app.modules).filter((m) => !seen.includes(m));
  if (missing.length > 0 || seen.length !== new Set(seen).size) throw new Error(`every module in exactly one group (missing: ${missing.join(', ')})`);
}
