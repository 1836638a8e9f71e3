import { afterAll, describe, expect, it } from 'vitest';
import { JsSandbox } from './js-sandbox.js';

const sandbox = new JsSandbox({ workers: 2, maxInputBytes: 1024 * 1024, maxOutputBytes: 1024 * 1024, workerHeapMb: 64 });
afterAll(() => sandbox.close());
const run = (source: string, input: unknown = { n: 2 }) => sandbox.run({ source, input, timeoutMs: 300, memoryBytes: 16 * 1024 * 1024 });

describe('JavaScript sandbox (QuickJS in worker threads)', () => {
  it('runs a function body over $input and returns JSON, with console lines', async () => {
    expect(await run('console.log("seen", $input.n); return { double: $input.n * 2, list: [1, "a", null] }')).toEqual({
      ok: true,
      value: { double: 4, list: [1, 'a', null] },
      logs: ['seen 2'],
    });
    expect(await run('return undefined')).toMatchObject({ ok: true, value: null });
  });

  const hostile: [string, string, RegExp][] = [
    ['process', 'return process.env', /'process' is not defined/],
    ['require', 'return require("fs").readFileSync("/etc/passwd", "utf8")', /'require' is not defined/],
    // import() yields a promise that never resolves to a module (no loader): nothing comes back.
    ['dynamic import', 'return import("fs")', /./],
    ['constructor.constructor', 'return ({}).constructor.constructor("return process")().env', /'process' is not defined/],
    ['globalThis escape', 'return Object.keys(globalThis).filter(k => /process|require|Buffer|fetch/.test(k))', /^$/],
    ['endless loop', 'while (true) {}', /interrupted/],
    ['endless recursion', 'const f = () => f(); return f()', /stack overflow|interrupted/],
    ['array memory bomb', 'const a = []; for (;;) a.push(new Array(100000).fill(7))', /out of memory|interrupted/],
    ['string memory bomb', 'let s = "x"; for (;;) s += s', /out of memory|interrupted|string too long/],
    ['huge output', 'return "y".repeat(5 * 1024 * 1024)', /larger than|out of memory/],
    ['syntax error', 'return {', /SyntaxError|expecting|unexpected/i],
  ];

  it.each(hostile)('survives %s: a clear error, nothing leaks', async (_label, source, message) => {
    const r = await run(source);
    if (r.ok) {
      // Only the probes may "succeed", and they must bring back nothing of the host.
      expect([[], {}]).toContainEqual(r.value);
      return;
    }
    expect(r.error.message).toMatch(message);
  });

  it('prototype pollution stays inside one run', async () => {
    expect((await run('Object.prototype.polluted = "yes"; return ({}).polluted')).ok).toBe(true);
    expect(await run('return ({}).polluted === undefined')).toMatchObject({ ok: true, value: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps working after every kind of failure, and refuses oversize input', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => run('return $input.n + 1', { n: i })));
    expect(results.map((r) => (r.ok ? r.value : r.error))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await run('return 1', { big: 'z'.repeat(2 * 1024 * 1024) })).toMatchObject({ ok: false, error: { message: /input is larger/ } });
  });
});
