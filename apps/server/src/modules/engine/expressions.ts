import jsonata from 'jsonata';
import { NodeError } from '@infinity/node-sdk';
import { ExpressionPool } from './expression-pool.js';
import { runsInline } from './expression-shape.js';

/**
 * Expressions in node parameters: a string holding `{{ … }}` is evaluated with JSONata over
 * `$input`, `$node` (earlier nodes' outputs by name), `$execution` and `$params`. Never `eval`.
 * A parameter that is exactly one `{{ … }}` takes the expression's value (object, number, …);
 * text around or between expressions makes a string.
 *
 * NB: JSONata can recurse or loop without end (`$f := function(){ $f() }`) or build huge
 * sequences: every expression is compiled with JSONata's own guardrails (time, stack depth,
 * sequence length) and fails with a clear error. Those guardrails run only between steps: an
 * expression that could take one long step (`$pad("", 20000000)`, a regex, user functions) is
 * evaluated in the expression workers instead, which are terminated at the deadline and have a
 * heap limit (expression-shape.ts says which run inline, expression-pool.ts how workers run).
 */

const EXPR_RE = /\{\{([\s\S]+?)\}\}/g;
const WHOLE_RE = /^\s*\{\{([\s\S]+?)\}\}\s*$/;

export const EXPRESSION_LIMITS = {
  timeoutMs: 1000,
  maxDepth: 500,
  maxSequence: 1_000_000,
  maxLength: 10_000,
  /** Expression workers: how many, the heap of each, how long after the time box one is terminated, and the largest result (JSON characters). */
  workers: 2,
  workerHeapMb: 128,
  workerGraceMs: 250,
  maxResultChars: 16 * 1024 * 1024,
};

let pool: ExpressionPool | undefined;
const workers = () =>
  (pool ??= new ExpressionPool({
    workers: EXPRESSION_LIMITS.workers,
    heapMb: EXPRESSION_LIMITS.workerHeapMb,
    timeoutMs: EXPRESSION_LIMITS.timeoutMs,
    graceMs: EXPRESSION_LIMITS.workerGraceMs,
    maxDepth: EXPRESSION_LIMITS.maxDepth,
    maxSequence: EXPRESSION_LIMITS.maxSequence,
    maxResultChars: EXPRESSION_LIMITS.maxResultChars,
  }));

export function containsExpression(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('{{');
  if (Array.isArray(v)) return v.some(containsExpression);
  if (v && typeof v === 'object') return Object.values(v).some(containsExpression);
  return false;
}

type Compiled = ReturnType<typeof jsonata>;

/**
 * `$node["Fetch"]` reads as a key lookup to people (and is how n8n spells it), but in JSONata a
 * bracket holds a predicate: rewrite it to the field reference `$node.\`Fetch\``.
 */
const NODE_REF_RE = /\$node\[\s*(["'])((?:(?!\1)[^\\`])*)\1\s*\]/g;
export const normalizeExpression = (source: string) => source.replace(NODE_REF_RE, (_m, _q, name: string) => `$node.\`${name}\``);
/** A compiled expression and which scope variables it can read (binding the others is waste). */
interface Entry {
  expr: Compiled;
  /** The normalized source, for the workers. */
  source: string;
  /** Whether it may run in the server's thread (no step can take long); otherwise a worker runs it. */
  inline: boolean;
  node: boolean;
  execution: boolean;
  params: boolean;
}
const cache = new Map<string, Entry>();
// `$eval` evaluates a string in the current environment: it could name any variable.
const reads = (source: string, name: string) => source.includes(`$${name}`) || source.includes('$eval');

function compile(source: string): Entry {
  let c = cache.get(source);
  if (c) return c;
  if (source.length > EXPRESSION_LIMITS.maxLength)
    throw new NodeError(`Expression is longer than ${EXPRESSION_LIMITS.maxLength} characters.`, { code: 'EXPRESSION_INVALID', retryable: false });
  try {
    const normalized = normalizeExpression(source);
    const expr = jsonata(normalized, { timeout: EXPRESSION_LIMITS.timeoutMs, stack: EXPRESSION_LIMITS.maxDepth, sequence: EXPRESSION_LIMITS.maxSequence });
    c = {
      expr,
      source: normalized,
      inline: runsInline(expr.ast()),
      node: reads(source, 'node'),
      execution: reads(source, 'execution'),
      params: reads(source, 'params'),
    };
  } catch (err) {
    throw new NodeError(`Invalid expression "${source.slice(0, 80)}": ${(err as Error).message}`, {
      code: 'EXPRESSION_INVALID',
      details: { position: (err as { position?: number }).position },
      retryable: false,
    });
  }
  if (cache.size > 5000) cache.clear();
  cache.set(source, c);
  return c;
}

export interface Scope {
  $input: unknown;
  /** Read only by expressions that name `$node`: the executor may compute it on first read. */
  $node: Record<string, { output: unknown; ports: Record<string, unknown> }>;
  $execution: { id: string; flowId: string; trigger: string; resumeUrl?: string };
  $params?: Record<string, unknown>;
}

/** Evaluates one JSONata expression (no braces) over a scope, time-boxed. */
export async function evaluate(source: string, scope: Scope, input: unknown = scope.$input): Promise<unknown> {
  const c = compile(source.trim());
  const bindings: Record<string, unknown> = { input: scope.$input };
  if (c.node) bindings.node = scope.$node;
  if (c.execution) bindings.execution = scope.$execution;
  if (c.params) bindings.params = scope.$params ?? {};
  if (!c.inline) {
    const r = await workers().run({ source: c.source, input, bindings });
    if (r.ok) return r.value;
    throw failure(source, r);
  }
  try {
    const v: unknown = await c.expr.evaluate(input, bindings);
    return normalize(v);
  } catch (err) {
    const e = err as { message?: string; code?: string };
    throw failure(source, {
      limit: e.code === 'D1011' || e.code === 'D1012' || e.code === 'D2014' || e.code === 'D2015',
      message: e.message ?? String(err),
      ...(e.code ? { code: e.code } : {}),
    });
  }
}

function failure(source: string, e: { limit: boolean; message: string; code?: string }): NodeError {
  const why =
    e.code === 'D1011'
      ? `nests deeper than ${EXPRESSION_LIMITS.maxDepth} levels (endless recursion?)`
      : e.code === 'D1012'
        ? `ran longer than ${EXPRESSION_LIMITS.timeoutMs} ms`
        : e.message;
  return new NodeError(`Expression "${source.trim().slice(0, 80)}" failed: ${why}`, {
    code: e.limit ? 'EXPRESSION_LIMIT' : 'EXPRESSION_FAILED',
    details: { code: e.code },
    retryable: false,
  });
}

/** JSONata returns arrays with extra marker properties ("sequences"); hand out plain JSON. */
function normalize(v: unknown): unknown {
  if (v === undefined) return null;
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = normalize(x);
    return out;
  }
  return v;
}

/** Resolves every `{{ … }}` in a parameter value (strings, arrays and objects, recursively). */
export async function resolveParams(value: unknown, scope: Scope): Promise<unknown> {
  if (typeof value === 'string') {
    if (!value.includes('{{')) return value;
    const whole = WHOLE_RE.exec(value);
    if (whole && !whole[1]!.includes('}}')) return evaluate(whole[1]!, scope);
    const parts: string[] = [];
    let last = 0;
    for (const m of value.matchAll(EXPR_RE)) {
      parts.push(value.slice(last, m.index));
      const v = await evaluate(m[1]!, scope);
      parts.push(v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
      last = m.index + m[0].length;
    }
    parts.push(value.slice(last));
    return parts.join('');
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => resolveParams(v, scope)));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await resolveParams(v, scope);
    return out;
  }
  return value;
}
