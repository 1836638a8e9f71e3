import { Worker } from 'node:worker_threads';

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

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  busy: boolean;
}

interface Pending {
  job: SandboxJob;
  resolve: (r: SandboxResult) => void;
}

export class JsSandbox {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private closed = false;

  constructor(private readonly o: SandboxOptions) {}

  run(job: SandboxJob): Promise<SandboxResult> {
    const input = JSON.stringify(job.input ?? null);
    if (input.length > this.o.maxInputBytes)
      return Promise.resolve({ ok: false, error: { name: 'RangeError', message: `the input is larger than ${this.o.maxInputBytes} bytes` }, logs: [] });
    return new Promise((resolve) => {
      this.queue.push({ job: { ...job, input }, resolve });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER, {
      eval: true,
      workerData: { quickjs: import.meta.resolve('quickjs-emscripten') },
      resourceLimits: { maxOldGenerationSizeMb: this.o.workerHeapMb, maxYoungGenerationSizeMb: Math.min(32, this.o.workerHeapMb), stackSizeMb: 4 },
    });
    worker.unref();
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    const slot: Slot = { worker, ready, busy: false };
    ready.catch(() => undefined);
    return slot;
  }

  private pump(): void {
    if (this.closed) return;
    while (this.queue.length) {
      let slot = this.slots.find((s) => !s.busy);
      if (!slot && this.slots.length < this.o.workers) {
        slot = this.spawn();
        this.slots.push(slot);
      }
      if (!slot) return;
      const next = this.queue.shift()!;
      slot.busy = true;
      void this.dispatch(slot, next);
    }
  }

  private replace(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    void slot.worker.terminate().catch(() => undefined);
  }

  private async dispatch(slot: Slot, p: Pending): Promise<void> {
    const done = (r: SandboxResult, broken = false) => {
      clearTimeout(timer);
      slot.worker.off('message', onMessage);
      slot.worker.off('error', onError);
      slot.worker.off('exit', onExit);
      if (broken) this.replace(slot);
      else slot.busy = false;
      p.resolve(r);
      this.pump();
    };
    const onMessage = (m: { ok: boolean; json?: string; error?: { name: string; message: string }; logs: string[] }) =>
      done(
        m.ok
          ? { ok: true, value: JSON.parse(m.json ?? 'null') as unknown, logs: m.logs }
          : { ok: false, error: m.error ?? { name: 'Error', message: 'failed' }, logs: m.logs },
      );
    const onError = (err: Error & { code?: string }) =>
      done(
        {
          ok: false,
          error: { name: 'RangeError', message: err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'the code ran out of memory' : `the sandbox failed: ${err.message}` },
          logs: [],
        },
        true,
      );
    const onExit = () => done({ ok: false, error: { name: 'Error', message: 'the sandbox stopped' }, logs: [] }, true);
    // QuickJS interrupts the code at its deadline; this only catches a sandbox that stopped answering.
    const timer = setTimeout(
      () => done({ ok: false, error: { name: 'InternalError', message: 'interrupted: the code ran too long' }, logs: [] }, true),
      p.job.timeoutMs + 2000,
    );
    try {
      await slot.ready;
    } catch (err) {
      onError(err as Error);
      return;
    }
    slot.worker.on('message', onMessage);
    slot.worker.once('error', onError);
    slot.worker.once('exit', onExit);
    slot.worker.postMessage({ ...p.job, maxOutputBytes: this.o.maxOutputBytes });
  }
}
