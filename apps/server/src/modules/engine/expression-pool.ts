import { Worker } from 'node:worker_threads';

/**
 * Worker threads that evaluate the expressions that may not run in the server's thread (see
 * expression-shape.ts). A worker evaluates one expression at a time:
 *  - time: JSONata's own time box stops loops between steps; a worker still busy at the
 *    deadline (one long step: a huge `$pad`, a string doubled thirty times) is terminated and
 *    replaced, so the server's event loop never waits for it;
 *  - memory: each worker has its own V8 heap limit; one that runs out dies alone;
 *  - regular expressions run on RE2 (re2js, linear time), never on V8's backtracking engine;
 *  - the result is capped in size before it comes back.
 */

export interface ExpressionPoolOptions {
  workers: number;
  heapMb: number;
  /** JSONata's time box; the worker is terminated `graceMs` after it. */
  timeoutMs: number;
  graceMs: number;
  maxDepth: number;
  maxSequence: number;
  maxResultChars: number;
}

export interface ExpressionJob {
  source: string;
  input: unknown;
  bindings: Record<string, unknown>;
}

export type ExpressionOutcome = { ok: true; value: unknown } | { ok: false; limit: boolean; message: string; code?: string; position?: number };

// Runs in the worker (CommonJS, evaluated from this string so it works from source and dist).
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const jsonata = (await import(workerData.jsonata)).default;
  const { RE2JS } = await import(workerData.re2js);
  const o = workerData.options;
  const compiled = new Map();
  // JSONata calls new RegexEngine(regExp), then sets lastIndex and calls exec() (a global regex's protocol).
  class LinearRegExp {
    constructor(re) {
      const key = re.source + '/' + re.flags;
      let c = compiled.get('re:' + key);
      if (!c) {
        c = RE2JS.compile(RE2JS.translateRegExp(re));
        compiled.set('re:' + key, c);
      }
      this.re = c;
      this.lastIndex = 0;
    }
    exec(str) {
      if (this.lastIndex > str.length) { this.lastIndex = 0; return null; }
      const m = this.re.matcher(str);
      if (!m.find(this.lastIndex)) { this.lastIndex = 0; return null; }
      const out = [m.group(0)];
      for (let i = 1; i <= m.groupCount(); i++) { const g = m.group(i); out.push(g === null ? undefined : g); }
      out.index = m.start();
      out.input = str;
      this.lastIndex = m.end();
      return out;
    }
  }
  parentPort.on('message', async (job) => {
    try {
      let expr = compiled.get(job.source);
      if (!expr) {
        expr = jsonata(job.source, { timeout: o.timeoutMs, stack: o.maxDepth, sequence: o.maxSequence, RegexEngine: LinearRegExp });
        if (compiled.size > 1000) compiled.clear();
        compiled.set(job.source, expr);
      }
      const v = await expr.evaluate(job.input, job.bindings);
      const json = v === undefined ? 'null' : JSON.stringify(v);
      if (json === undefined) return parentPort.postMessage({ ok: true, json: 'null' });
      if (json.length > o.maxResultChars) return parentPort.postMessage({ ok: false, limit: true, message: 'its result is larger than ' + o.maxResultChars + ' characters' });
      parentPort.postMessage({ ok: true, json });
    } catch (err) {
      const e = err || {};
      const limit = e.code === 'D1011' || e.code === 'D1012' || e.code === 'D2014' || e.code === 'D2015' || e instanceof RangeError;
      parentPort.postMessage({ ok: false, limit, code: typeof e.code === 'string' ? e.code : undefined, position: typeof e.position === 'number' ? e.position : undefined, message: String(e.message || e).slice(0, 500) });
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
  job: ExpressionJob;
  resolve: (r: ExpressionOutcome) => void;
}

export class ExpressionPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private closed = false;

  constructor(private readonly o: ExpressionPoolOptions) {}

  run(job: ExpressionJob): Promise<ExpressionOutcome> {
    return new Promise((resolve) => {
      this.queue.push({ job, resolve });
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
      workerData: { jsonata: import.meta.resolve('jsonata'), re2js: import.meta.resolve('re2js'), options: this.o },
      resourceLimits: { maxOldGenerationSizeMb: this.o.heapMb, maxYoungGenerationSizeMb: Math.min(16, this.o.heapMb), stackSizeMb: 4 },
    });
    worker.unref();
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    ready.catch(() => undefined);
    const slot: Slot = { worker, ready, busy: false };
    // A worker that dies between jobs is dropped; the next job starts a new one.
    worker.on('error', () => undefined);
    worker.once('exit', () => this.drop(slot));
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

  private drop(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
  }

  private replace(slot: Slot): void {
    this.drop(slot);
    void slot.worker.terminate().catch(() => undefined);
    // Start the replacement now: the next expression should not wait for a worker to boot.
    if (!this.closed && this.slots.length < this.o.workers) this.slots.push(this.spawn());
  }

  private async dispatch(slot: Slot, p: Pending): Promise<void> {
    const deadline: { timer?: NodeJS.Timeout } = {};
    let finished = false;
    const done = (r: ExpressionOutcome, broken = false) => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline.timer);
      slot.worker.off('message', onMessage);
      slot.worker.off('error', onError);
      slot.worker.off('exit', onExit);
      if (broken) this.replace(slot);
      else slot.busy = false;
      p.resolve(r);
      this.pump();
    };
    const onMessage = (m: { ok: boolean; json?: string; limit?: boolean; message?: string; code?: string; position?: number }) => {
      if (!m.ok)
        return done({
          ok: false,
          limit: Boolean(m.limit),
          message: m.message ?? 'failed',
          ...(m.code ? { code: m.code } : {}),
          ...(m.position !== undefined ? { position: m.position } : {}),
        });
      done({ ok: true, value: JSON.parse(m.json ?? 'null') as unknown });
    };
    const onError = (err: Error & { code?: string }) =>
      done(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? { ok: false, limit: true, message: `used more than ${this.o.heapMb} MB of memory` }
          : { ok: false, limit: false, message: `the expression worker failed: ${err.message}` },
        true,
      );
    const onExit = () => done({ ok: false, limit: false, message: 'the expression worker stopped' }, true);
    try {
      await slot.ready;
    } catch (err) {
      onError(err as Error);
      return;
    }
    slot.worker.on('message', onMessage);
    slot.worker.once('error', onError);
    slot.worker.once('exit', onExit);
    // JSONata's time box stops most loops; this stops a step that never returns to it.
    deadline.timer = setTimeout(
      () => done({ ok: false, limit: true, message: `ran longer than ${this.o.timeoutMs} ms` }, true),
      this.o.timeoutMs + this.o.graceMs,
    );
    try {
      slot.worker.postMessage({ source: p.job.source, input: p.job.input, bindings: p.job.bindings });
    } catch (err) {
      // Only JSON-like values can be handed over; anything else is the expression's input's fault.
      done({ ok: false, limit: false, message: `its input cannot be passed to the expression worker: ${(err as Error).message}` });
    }
  }
}
