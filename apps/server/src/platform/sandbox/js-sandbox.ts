import { Worker } from 'node:worker_threads';
import { WorkerPool } from './worker-pool.js';

/**
 * User JavaScript, run in QuickJS (quickjs-emscripten) inside worker threads:
 *  - no host access: QuickJS has no `process`, `require`, file system or network; only `$input`
 *    and `console` are provided, and every run gets a fresh runtime and context;
 *  - time: QuickJS's interrupt handler stops the code at its deadline; a worker that still does
 *    not answer (a stuck native call) is terminated and replaced;
 *  - memory: QuickJS's own limit, and the worker's V8 heap limits for what it does not count
 *    (strings): a worker that runs out of memory dies alone and is replaced;
 *  - sizes: input and output are capped.
 * The server keeps serving whatever the code does.
 */

export interface SandboxJob {
  source: string;
  input: unknown;
  timeoutMs: number;
  memoryBytes: number;
}

export type SandboxResult = { ok: true; value: unknown; logs: string[] } | { ok: false; error: { name: string; message: string }; logs: string[] };

export interface SandboxOptions {
  workers: number;
  maxInputBytes: number;
  maxOutputBytes: number;
  /** V8 heap of each worker (strings and the QuickJS heap live here). */
  workerHeapMb: number;
}

// Runs in the worker (CommonJS script, evaluated from this string so it works from source and dist).
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { getQuickJS, shouldInterruptAfterDeadline } = await import(workerData.quickjs);
  const QuickJS = await getQuickJS();
  parentPort.on('message', (job) => {
    const logs = [];
    const rt = QuickJS.newRuntime();
    rt.setMemoryLimit(job.memoryBytes);
    rt.setMaxStackSize(256 * 1024);
    rt.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + job.timeoutMs));
    const vm = rt.newContext();
    const errorOf = (h) => {
      const e = vm.dump(h);
      h.dispose();
      if (e && typeof e === 'object') return { name: String(e.name || 'Error'), message: String(e.message || 'error').slice(0, 1000) };
      return { name: 'Error', message: String(e).slice(0, 1000) };
    };
    try {
      const log = vm.newFunction('log', (...args) => {
        if (logs.length < 100) logs.push(args.map((a) => { const v = vm.dump(a); return typeof v === 'string' ? v : JSON.stringify(v); }).join(' ').slice(0, 2000));
      });
      const consoleObj = vm.newObject();
      for (const k of ['log', 'info', 'warn', 'error']) vm.setProp(consoleObj, k, log);
      vm.setProp(vm.global, 'console', consoleObj);
      log.dispose();
      consoleObj.dispose();
      const inputStr = vm.newString(job.input);
      vm.setProp(vm.global, '__input', inputStr);
      inputStr.dispose();
      const r = vm.evalCode('"use strict"; const $input = JSON.parse(__input); delete globalThis.__input;\\nconst __result = (function () {\\n' + job.source + '\\n})();\\nJSON.stringify(__result === undefined ? null : __result)', 'code.js');
      if (r.error) return parentPort.postMessage({ ok: false, error: errorOf(r.error), logs });
      const out = vm.dump(r.value);
      r.value.dispose();
      if (typeof out !== 'string') return parentPort.postMessage({ ok: false, error: { name: 'TypeError', message: 'the result cannot be turned into JSON' }, logs });
      if (out.length > job.maxOutputBytes) return parentPort.postMessage({ ok: false, error: { name: 'RangeError', message: 'the result is larger than ' + job.maxOutputBytes + ' bytes' }, logs });
      parentPort.postMessage({ ok: true, json: out, logs });
    } catch (err) {
      parentPort.postMessage({ ok: false, error: { name: 'Error', message: String(err && err.message || err).slice(0, 1000) }, logs });
    } finally {
      try { vm.dispose(); rt.dispose(); } catch {}
    }
  });
  parentPort.postMessage({ ready: true });
})();
`;

type WorkerAnswer = { ok: boolean; json?: string; error?: { name: string; message: string }; logs: string[] };

export class JsSandbox {
  private readonly pool: WorkerPool<SandboxJob & { input: string }, WorkerAnswer, SandboxResult>;

  constructor(private readonly o: SandboxOptions) {
    this.pool = new WorkerPool<SandboxJob & { input: string }, WorkerAnswer, SandboxResult>({
      workers: o.workers,
      spawn: () =>
        new Worker(WORKER, {
          eval: true,
          workerData: { quickjs: import.meta.resolve('quickjs-emscripten') },
          resourceLimits: { maxOldGenerationSizeMb: o.workerHeapMb, maxYoungGenerationSizeMb: Math.min(32, o.workerHeapMb), stackSizeMb: 4 },
        }),
      prewarm: false,
      // QuickJS interrupts the code at its deadline; this only catches a sandbox that stopped answering.
      deadlineMs: (job) => job.timeoutMs + 2000,
      message: (job) => ({ ...job, maxOutputBytes: o.maxOutputBytes }),
      answer: (m) =>
        m.ok
          ? { ok: true, value: JSON.parse(m.json ?? 'null') as unknown, logs: m.logs }
          : { ok: false, error: m.error ?? { name: 'Error', message: 'failed' }, logs: m.logs },
      failed: (err) => ({
        ok: false,
        error: { name: 'RangeError', message: err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'the code ran out of memory' : `the sandbox failed: ${err.message}` },
        logs: [],
      }),
      exited: () => ({ ok: false, error: { name: 'Error', message: 'the sandbox stopped' }, logs: [] }),
      timedOut: () => ({ ok: false, error: { name: 'InternalError', message: 'interrupted: the code ran too long' }, logs: [] }),
      unpostable: (err) => ({ ok: false, error: { name: 'Error', message: `the job cannot be passed to the sandbox: ${err.message}` }, logs: [] }),
    });
  }

  run(job: SandboxJob): Promise<SandboxResult> {
    const input = JSON.stringify(job.input ?? null);
    if (input.length > this.o.maxInputBytes)
      return Promise.resolve({ ok: false, error: { name: 'RangeError', message: `the input is larger than ${this.o.maxInputBytes} bytes` }, logs: [] });
    return this.pool.run({ ...job, input });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
