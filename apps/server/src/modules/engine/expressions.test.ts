import { describe, expect, it } from 'vitest';
import { evaluate, normalizeExpression, resolveParams } from './expressions.js';

const scope = { $input: { body: { email: 'a@b.c', n: 3 } }, $node: { Fetch: { output: { items: [10, 20] }, ports: {} } }, $execution: { id: 'e1', flowId: 'f1', trigger: 'manual' } };

describe('expressions (JSONata, time-boxed)', () => {
  it('evaluates whole-value and embedded expressions over $input, $node and $execution', async () => {
    expect(await resolveParams('{{ $input.body.n * 2 }}', scope)).toBe(6);
    expect(await resolveParams('mail {{ $input.body.email }} in {{ $execution.id }}', scope)).toBe('mail a@b.c in e1');
    expect(await resolveParams({ a: ['{{ $node["Fetch"].output.items[0] }}'], b: 'plain' }, scope)).toEqual({ a: [10], b: 'plain' });
    expect(await resolveParams('{{ $node.Fetch.output }}', scope)).toEqual({ items: [10, 20] });
    expect(await resolveParams('{{ $input.missing }}', scope)).toBeNull();
  });

  it('reads $node only when the expression names it, and still through $eval', async () => {
    let reads = 0;
    const counting = { ...scope, get $node() {
      reads++;
      return scope.$node;
    } };
    expect(await evaluate('$input.body.n + 1', counting)).toBe(4);
    expect(reads).toBe(0);
    expect(await evaluate('$node.Fetch.output.items[1]', counting)).toBe(20);
    expect(await evaluate('$eval("$node.Fetch.output.items[0]")', counting)).toBe(10);
    expect(reads).toBe(2);
  });

  it('rewrites $node["Name"] to a field reference, also with quotes inside other strings', () => {
    expect(normalizeExpression(`$node["My node"].output & $node['b'].x`)).toBe('$node.`My node`.output & $node.`b`.x');
  });

  it('fails clearly on endless recursion, long loops, huge ranges and syntax errors', async () => {
    await expect(evaluate('($f := function($x){ $f($x) }; $f(1))', scope)).rejects.toMatchObject({ code: 'EXPRESSION_LIMIT' });
    await expect(evaluate('$count([1..9999999].($ * 2))', scope)).rejects.toMatchObject({ code: 'EXPRESSION_LIMIT' });
    await expect(evaluate('{ "a": ', scope)).rejects.toMatchObject({ code: 'EXPRESSION_INVALID' });
    await expect(evaluate('x'.repeat(20_000), scope)).rejects.toMatchObject({ code: 'EXPRESSION_INVALID' });
  });

  it('has no way to reach the host (no eval, no globals)', async () => {
    expect(await evaluate('$eval("1+1")', scope)).toBe(2); // JSONata's own evaluator, not JavaScript's
    await expect(evaluate('$eval("process.exit(1)")', scope)).resolves.toBeNull();
    expect(await evaluate('$string($input.constructor)', scope)).toBeNull();
  });
});
