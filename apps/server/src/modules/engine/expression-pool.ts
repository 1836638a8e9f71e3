import { Worker } from 'node:worker_threads';
import { WorkerPool } from '../../platform/sandbox/worker-pool.js';

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

type WorkerAnswer = { ok: boolean; json?: string; limit?: boolean; message?: string; code?: string; position?: number };

export class ExpressionPool {
  private readonly pool: WorkerPool<ExpressionJob, WorkerAnswer, ExpressionOutcome>;

  constructor(o: ExpressionPoolOptions) {
    this.pool = new WorkerPool<ExpressionJob, WorkerAnswer, ExpressionOutcome>({
      workers: o.workers,
      spawn: () =>
        new Worker(WORKER, {
          eval: true,
          workerData: { jsonata: import.meta.resolve('jsonata'), re2js: import.meta.resolve('re2js'), options: o },
          resourceLimits: { maxOldGenerationSizeMb: o.heapMb, maxYoungGenerationSizeMb: Math.min(16, o.heapMb), stackSizeMb: 4 },
        }),
      // Start the replacement now: the next expression should not wait for a worker to boot.
      prewarm: true,
      // JSONata's time box stops most loops; this stops a step that never returns to it.
      deadlineMs: () => o.timeoutMs + o.graceMs,
      message: (job) => ({ source: job.source, input: job.input, bindings: job.bindings }),
      answer: (m) =>
        m.ok
          ? { ok: true, value: JSON.parse(m.json ?? 'null') as unknown }
          : {
              ok: false,
              limit: Boolean(m.limit),
              message: m.message ?? 'failed',
              ...(m.code ? { code: m.code } : {}),
              ...(m.position !== undefined ? { position: m.position } : {}),
            },
      failed: (err) =>
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? { ok: false, limit: true, message: `used more than ${o.heapMb} MB of memory` }
          : { ok: false, limit: false, message: `the expression worker failed: ${err.message}` },
      exited: () => ({ ok: false, limit: false, message: 'the expression worker stopped' }),
      timedOut: () => ({ ok: false, limit: true, message: `ran longer than ${o.timeoutMs} ms` }),
      // Only JSON-like values can be handed over; anything else is the expression's input's fault.
      unpostable: (err) => ({ ok: false, limit: false, message: `its input cannot be passed to the expression worker: ${err.message}` }),
    });
  }

  run(job: ExpressionJob): Promise<ExpressionOutcome> {
    return this.pool.run(job);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
