/**
 * Which expressions may run in the server's own thread. JSONata checks its time box only between
 * evaluation steps, so one step that runs long — `$pad("", 20000000)`, a backtracking regex, a
 * string doubled by a recursive function — blocks every request of every organization. An
 * expression runs inline only when no single step can cost more than a pass over the data it
 * reads: paths over the scope, literals, operators, conditions, object and array constructors, and
 * a few built-in functions whose result is no larger than their arguments. Everything else
 * (user functions, variable bindings, regular expressions, `$eval`, any other function) runs in
 * the expression workers, which are terminated at the deadline and have a heap limit.
 *
 * The bench's expressions (`$input.n + 1`, `{ "n": $input.body.n }`, `[1..100000]`,
 * `$count($input)`) are all inline: most expressions in flows read and reshape data.
 */

/** Built-ins whose work and result are linear in their arguments (no padding, joining, regex, sorting, user functions). */
const INLINE_FUNCTIONS = new Set([
  'count',
  'sum',
  'max',
  'min',
  'average',
  'length',
  'number',
  'string',
  'boolean',
  'not',
  'exists',
  'type',
  'uppercase',
  'lowercase',
  'trim',
  'substring',
  'substringBefore',
  'substringAfter',
  'contains',
  'round',
  'floor',
  'ceil',
  'abs',
  'sqrt',
  'keys',
  'lookup',
  'append',
  'now',
  'millis',
]);
/** Scope variables (`$` is the input itself). Any other variable needs a binding, which runs in a worker. */
const SCOPE_VARIABLES = new Set(['', '$', 'input', 'node', 'execution', 'params']);
const INLINE_OPERATORS = new Set(['+', '-', '*', '/', '%', '=', '!=', '<', '<=', '>', '>=', '&', 'and', 'or', 'in']);
/** Upper bound on the work of an inline expression: about this many passes over the data it reads. */
const MAX_INLINE_NODES = 100;
/** `&` and `$string` copy their operands; a handful of copies keeps the result a small multiple of the input. */
const MAX_INLINE_COPIES = 16;

interface Node {
  type?: string;
  value?: unknown;
  steps?: Node[];
  stages?: Node[];
  predicate?: Node[];
  expr?: Node;
  lhs?: Node | Node[][];
  rhs?: Node;
  expression?: Node;
  expressions?: Node[];
  condition?: Node;
  then?: Node;
  else?: Node;
  procedure?: Node;
  arguments?: Node[];
  group?: unknown;
  focus?: unknown;
  index?: unknown;
  tuple?: unknown;
  ancestor?: unknown;
}

/** Whether a compiled expression's syntax tree (jsonata's `ast()`) may be evaluated in the server's thread. */
export function runsInline(ast: unknown): boolean {
  const budget = { nodes: MAX_INLINE_NODES, copies: MAX_INLINE_COPIES };
  return inline(ast as Node, budget);
}

function inline(n: Node | undefined, budget: { nodes: number; copies: number }): boolean {
  if (!n || typeof n !== 'object') return false;
  if (--budget.nodes < 0) return false;
  if (n.group !== undefined || n.focus !== undefined || n.index !== undefined || n.tuple !== undefined || n.ancestor !== undefined) return false;
  for (const f of [...(n.stages ?? []), ...(n.predicate ?? [])]) if (f.type !== 'filter' || !inline(f.expr, budget)) return false;
  switch (n.type) {
    case 'string':
    case 'number':
    case 'value':
    case 'name':
    case 'wildcard':
      return true;
    case 'variable':
      return typeof n.value === 'string' && SCOPE_VARIABLES.has(n.value);
    case 'path': {
      const [first, ...rest] = n.steps ?? [];
      // Later steps only descend (names, `*`): a variable or a block as a step would map the
      // whole scope over every item.
      return inline(first, budget) && rest.every((s) => (s.type === 'name' || s.type === 'wildcard') && inline(s, budget));
    }
    case 'binary':
      if (n.value === '..') return n.lhs !== undefined && !Array.isArray(n.lhs) && n.lhs.type === 'number' && n.rhs?.type === 'number';
      if (typeof n.value !== 'string' || !INLINE_OPERATORS.has(n.value)) return false;
      if (n.value === '&' && --budget.copies < 0) return false;
      return !Array.isArray(n.lhs) && inline(n.lhs, budget) && inline(n.rhs, budget);
    case 'unary':
      if (n.value === '-') return inline(n.expression, budget);
      if (n.value === '[') return (n.expressions ?? []).every((e) => inline(e, budget));
      if (n.value === '{') return Array.isArray(n.lhs) && n.lhs.every((pair) => pair.length === 2 && pair.every((e) => inline(e, budget)));
      return false;
    case 'condition':
      return inline(n.condition, budget) && inline(n.then, budget) && (n.else === undefined || inline(n.else, budget));
    case 'function': {
      const name = n.procedure?.type === 'variable' ? n.procedure.value : undefined;
      if (typeof name !== 'string' || !INLINE_FUNCTIONS.has(name)) return false;
      if (name === 'string' && --budget.copies < 0) return false;
      return (n.arguments ?? []).every((a) => inline(a, budget));
    }
    default:
      return false;
  }
}
