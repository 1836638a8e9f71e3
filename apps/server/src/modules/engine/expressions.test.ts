import { describe, expect, it } from 'vitest';
import jsonata from 'jsonata';
import { evaluate, normalizeExpression, resolveParams } from './expressions.js';
import { runsInline } from './expression-shape.js';

const scope = {
  $input: { body: { email: 'a@b.c', n: 3 } },
  $node: { Fetch: { output: { items: [10, 20] }, ports: {} } },
  $execution: { id: 'e1', flowId: 'f1', trigger: 'manual' },
};

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
    const counting = {
      ...scope,
      get $node() {
        reads++;
        return scope.$node;
      },
    };
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

  it('runs inline only expressions whose every step is bounded by the data it reads', () => {
    const inline = [
      '$input.body.n',
      '{ "n": $input.n + 1 }',
      '[1..100000]',
      '$input * 2',
      '{ "count": $count($input), "last": $input[-1] }',
      '$node.`Fetch`.output.items[price > 3].name',
      '"a" & $input.x',
      '$input ? 1 : 2',
      '$string($input)',
      '$',
    ];
    const worker = [
      '$pad("", 20000000, "x")',
      '$contains($input.s, /^(a|a)+$/)',
      '$x := 1',
      '($f := function(){ $f() }; $f())',
      '$eval("1")',
      '$input.items.$input',
      '$input.items.($input)',
      '$join($input.a, ",")',
      '[1..$input.n]',
      '$input.items^(price)',
      '$input ~> $count()',
      '$replace($input.s, "a", "b")',
    ];
    for (const e of inline) expect(runsInline(jsonata(e).ast()), e).toBe(true);
    for (const e of worker) expect(runsInline(jsonata(e).ast()), e).toBe(false);
  });

  it('evaluates regexes and other worker-run functions the same way (RE2 engine)', async () => {
    expect(await evaluate('$join(["a", "b"], ",")', scope)).toBe('a,b');
    expect(await evaluate('$replace("aXbx", /x/i, "-")', scope)).toBe('a-b-');
    expect(await evaluate('$split("a1b22c", /[0-9]+/)', scope)).toEqual(['a', 'b', 'c']);
    expect(await evaluate('$match("k=1, v=22", /([a-z])=([0-9]+)/).groups', scope)).toEqual(['k', '1', 'v', '22']);
    expect(await evaluate('($double := function($x){ $x * 2 }; $double($input.body.n))', scope)).toBe(6);
    expect(await evaluate('$node.Fetch.output.items ~> $sum()', scope)).toBe(30);
    await expect(evaluate('$contains("ab", /(a)\\1/)', scope)).rejects.toMatchObject({ code: 'EXPRESSION_FAILED' });
  });

  it("catastrophic regex in an expression: ^(a|a)+$ on 40 a's and a ! answers false (linear time) instead of freezing the server", async () => {
    expect(await evaluate(`$contains("${'a'.repeat(40)}!", /^(a|a)+$/)`, scope)).toBe(false);
    expect(await evaluate(`$contains("${'a'.repeat(40)}", /^(a|a)+$/)`, scope)).toBe(true);
  });

  it('$pad of 20,000,000 characters is stopped at the deadline while the event loop keeps serving other work', async () => {
    let hostileSettled = false;
    const hostile = evaluate('$length($pad("", 20000000, "x"))', scope).finally(() => (hostileSettled = true));
    // A timer and an ordinary expression are served while the hostile one runs: the server's thread is free.
    const served = await new Promise<boolean>((resolve) => setTimeout(() => resolve(!hostileSettled), 0));
    expect(served).toBe(true);
    expect(await evaluate('$input.body.n + 1', scope)).toBe(4);
    expect(hostileSettled).toBe(false);
    await expect(hostile).rejects.toMatchObject({ code: 'EXPRESSION_LIMIT' });
  });

  it('a string doubled 27 times by a recursive function is stopped in a worker (time or heap limit), not in the server', async () => {
    const doubling = '($f := function($s, $n){ $n = 0 ? $s : $f($s & $s, $n - 1) }; $length($f("x", 27)))';
    await expect(evaluate(doubling, scope)).rejects.toMatchObject({ code: 'EXPRESSION_LIMIT' });
    expect(await evaluate('$length($pad("", 10, "x"))', scope)).toBe(10); // a new worker took the dead one's place
  });
});
