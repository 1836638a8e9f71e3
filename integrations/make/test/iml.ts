/**
 * A small interpreter of Make's IML expressions (`{{ … }}` inside the app's JSON), enough for
 * this app and nothing more: whatever it does not know — an operator, a function, a variable —
 * is an error, never a silent `undefined`, so the test cannot pass over a construct it did not
 * evaluate. Semantics follow Make's "JavaScript in Make" page: strict equality (`=` and `==` are
 * `===`), `'` or `"` strings, back-ticked property names (headers.`webhook-id`), 1-based array
 * indexes, and a template that is exactly one `{{expr}}` keeps the value's type while mixed text
 * is interpolated.
 */

export type Scope = Record<string, unknown>;

type Node =
  | { k: 'lit'; v: unknown }
  | { k: 'var'; name: string }
  | { k: 'get'; obj: Node; key: Node }
  | { k: 'call'; fn: string; args: Node[] }
  | { k: 'not'; x: Node }
  | { k: 'neg'; x: Node }
  | { k: 'bin'; op: BinOp; a: Node; b: Node };

type BinOp = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%';

export class ImlError extends Error {}

const isEmpty = (v: unknown) => v === undefined || v === null || v === '';
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The built-in functions the app uses, as Make documents them (help.make.com/functions). */
const FUNCTIONS: Record<string, (args: unknown[]) => unknown> = {
  if: ([cond, a, b]) => (cond ? a : b),
  ifempty: ([a, b]) => (isEmpty(a) ? b : a),
  // switch(expression; value1; result1; …; [else])
  switch: ([x, ...rest]) => {
    for (let i = 0; i + 1 < rest.length; i += 2) if (rest[i] === x) return rest[i + 1];
    return rest.length % 2 === 1 ? rest[rest.length - 1] : undefined;
  },
  join: ([arr, sep]) =>
    arr === undefined || arr === null
      ? ''
      : asArray(arr, 'join')
          .map((x) => text(x))
          .join(String(sep)),
  keys: ([obj]) => (isRecord(obj) ? Object.keys(obj) : fail(`keys() takes a collection, got ${typeof obj}`)),
  contains: ([arr, v]) => asArray(arr, 'contains').includes(v),
  omit: ([obj, ...names]) => {
    if (!isRecord(obj)) return fail('omit() takes a collection');
    return Object.fromEntries(Object.entries(obj).filter(([k]) => !names.includes(k)));
  },
  // toCollection(array; key; value): [{key: "a", value: 1}] → {a: 1}
  toCollection: ([arr, key, value]) => {
    if (arr === undefined || arr === null) return {};
    return Object.fromEntries(
      asArray(arr, 'toCollection').map((e) => {
        if (!isRecord(e)) return fail('toCollection() takes an array of collections');
        return [text(e[String(key)]), e[String(value)]];
      }),
    );
  },
};

function fail(message: string): never {
  throw new ImlError(message);
}

function asArray(v: unknown, fn: string): unknown[] {
  return Array.isArray(v) ? v : fail(`${fn}() takes an array, got ${v === null ? 'null' : typeof v}`);
}

/** How a value reads inside text: empty for missing values; a collection inside text is an error. */
function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return fail(`a ${Array.isArray(v) ? 'array' : 'collection'} cannot be interpolated into text`);
}

// ---------------------------------------------------------------- tokenizer and parser

type Tok = { t: 'num'; v: number } | { t: 'str'; v: string } | { t: 'id'; v: string } | { t: 'op'; v: string };

const OPS = ['===', '!==', '==', '!=', '<=', '>=', '&&', '||', '<', '>', '=', '!', '+', '-', '*', '/', '%', '(', ')', '[', ']', '.', ','];

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?/.exec(src.slice(i))!;
      out.push({ t: 'num', v: Number(m[0]) });
      i += m[0].length;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) fail(`unterminated ${c} in {{${src}}}`);
      const v = src.slice(i + 1, end);
      // Back-ticks name a property (headers.`webhook-id`); quotes make a string.
      out.push(c === '`' ? { t: 'id', v } : { t: 'str', v });
      i = end + 1;
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(src.slice(i))!;
      out.push({ t: 'id', v: m[0] });
      i += m[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) fail(`unknown character "${c}" in {{${src}}}`);
    out.push({ t: 'op', v: op });
    i += op.length;
  }
  return out;
}

const BINARY: { ops: Record<string, BinOp> }[] = [
  { ops: { '||': '||' } },
  { ops: { '&&': '&&' } },
  { ops: { '==': '==', '===': '==', '=': '==', '!=': '!=', '!==': '!=' } },
  { ops: { '<': '<', '<=': '<=', '>': '>', '>=': '>=' } },
  { ops: { '+': '+', '-': '-' } },
  { ops: { '*': '*', '/': '/', '%': '%' } },
];

function parse(src: string): Node {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p];
  const isOp = (v: string) => {
    const t = toks[p];
    return t?.t === 'op' && t.v === v;
  };
  const expect = (v: string) => {
    if (!isOp(v)) fail(`expected "${v}" in {{${src}}}`);
    p++;
  };
  const binary = (level: number): Node => {
    if (level === BINARY.length) return unary();
    let left = binary(level + 1);
    for (;;) {
      const t = peek();
      const op = t?.t === 'op' ? BINARY[level]!.ops[t.v] : undefined;
      if (!op) return left;
      p++;
      left = { k: 'bin', op, a: left, b: binary(level + 1) };
    }
  };
  const unary = (): Node => {
    if (isOp('!')) {
      p++;
      return { k: 'not', x: unary() };
    }
    if (isOp('-')) {
      p++;
      return { k: 'neg', x: unary() };
    }
    return postfix(primary());
  };
  const postfix = (node: Node): Node => {
    for (;;) {
      if (isOp('.')) {
        p++;
        const t = toks[p++];
        if (t?.t !== 'id') fail(`expected a property name after "." in {{${src}}}`);
        node = { k: 'get', obj: node, key: { k: 'lit', v: t.v } };
      } else if (isOp('[')) {
        p++;
        const key = binary(0);
        expect(']');
        node = { k: 'get', obj: node, key };
      } else return node;
    }
  };
  const primary = (): Node => {
    const t = toks[p++];
    if (!t) return fail(`unexpected end of {{${src}}}`);
    if (t.t === 'num' || t.t === 'str') return { k: 'lit', v: t.v };
    if (t.t === 'op' && t.v === '(') {
      const inner = binary(0);
      expect(')');
      return inner;
    }
    if (t.t === 'id') {
      if (t.v === 'true' || t.v === 'false') return { k: 'lit', v: t.v === 'true' };
      if (t.v === 'null') return { k: 'lit', v: null };
      if (isOp('(')) {
        if (!Object.hasOwn(FUNCTIONS, t.v)) fail(`unknown IML function ${t.v}() in {{${src}}}`);
        p++;
        const args: Node[] = [];
        if (!isOp(')'))
          for (;;) {
            args.push(binary(0));
            if (isOp(',')) p++;
            else break;
          }
        expect(')');
        return { k: 'call', fn: t.v, args };
      }
      return { k: 'var', name: t.v };
    }
    return fail(`unexpected "${t.v}" in {{${src}}}`);
  };
  const node = binary(0);
  if (p !== toks.length) fail(`unexpected "${String(toks[p]!.v)}" in {{${src}}}`);
  return node;
}

// ---------------------------------------------------------------- evaluation

function evalNode(n: Node, scope: Scope): unknown {
  switch (n.k) {
    case 'lit':
      return n.v;
    case 'var':
      // Each context declares its variables (a module has no `item` outside iterate, an RPC has
      // no `body` before its response): reading one it does not have is an error of the app.
      if (!Object.hasOwn(scope, n.name)) return fail(`unknown IML variable "${n.name}" here (known: ${Object.keys(scope).join(', ')})`);
      return scope[n.name];
    case 'get': {
      const obj = evalNode(n.obj, scope);
      const key = evalNode(n.key, scope);
      if (obj === undefined || obj === null) return undefined;
      if (Array.isArray(obj) && typeof key === 'number') return obj[key - 1]; // IML arrays start at 1
      if (typeof obj === 'object') return (obj as Record<string, unknown>)[String(key)];
      return fail(`cannot read "${String(key)}" of a ${typeof obj}`);
    }
    case 'call':
      return FUNCTIONS[n.fn]!(n.args.map((a) => evalNode(a, scope)));
    case 'not':
      return !evalNode(n.x, scope);
    case 'neg':
      return -num(evalNode(n.x, scope), '-');
    case 'bin': {
      if (n.op === '&&') return evalNode(n.a, scope) && evalNode(n.b, scope);
      if (n.op === '||') return evalNode(n.a, scope) || evalNode(n.b, scope);
      const a = evalNode(n.a, scope);
      const b = evalNode(n.b, scope);
      switch (n.op) {
        case '==':
          return a === b;
        case '!=':
          return a !== b;
        case '<':
          return num(a, '<') < num(b, '<');
        case '<=':
          return num(a, '<=') <= num(b, '<=');
        case '>':
          return num(a, '>') > num(b, '>');
        case '>=':
          return num(a, '>=') >= num(b, '>=');
        case '+':
          return typeof a === 'string' || typeof b === 'string' ? text(a) + text(b) : num(a, '+') + num(b, '+');
        case '-':
          return num(a, '-') - num(b, '-');
        case '*':
          return num(a, '*') * num(b, '*');
        case '/':
          return num(a, '/') / num(b, '/');
        case '%':
          return num(a, '%') % num(b, '%');
      }
    }
  }
}

function num(v: unknown, op: string): number {
  return typeof v === 'number' ? v : fail(`"${op}" takes numbers, got ${v === null ? 'null' : typeof v}`);
}

/** A string of the app, split into text and parsed expressions (parsing is where unknown syntax fails). */
export interface Template {
  parts: (string | Node)[];
}

const cache = new Map<string, Template>();

export function compile(s: string): Template {
  const hit = cache.get(s);
  if (hit) return hit;
  const parts: (string | Node)[] = [];
  let i = 0;
  while (i < s.length) {
    const open = s.indexOf('{{', i);
    if (open < 0) {
      parts.push(s.slice(i));
      break;
    }
    if (open > i) parts.push(s.slice(i, open));
    const close = s.indexOf('}}', open);
    if (close < 0) fail(`unclosed {{ in "${s}"`);
    parts.push(parse(s.slice(open + 2, close)));
    i = close + 2;
  }
  const t = { parts };
  cache.set(s, t);
  return t;
}

export const hasIml = (s: string) => s.includes('{{');

/** Evaluates one string: `{{expr}}` alone keeps its type, anything else is text. */
export function evalString(s: string, scope: Scope): unknown {
  const { parts } = compile(s);
  if (parts.length === 1 && typeof parts[0] !== 'string') return evalNode(parts[0]!, scope);
  return parts.map((p) => (typeof p === 'string' ? p : text(evalNode(p, scope)))).join('');
}
