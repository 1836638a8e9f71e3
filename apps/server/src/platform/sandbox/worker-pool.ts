import type { Worker } from 'node:worker_threads';

/**
 * A pool of worker threads that run untrusted work one job at a time each (the code node's QuickJS
 * sandbox, the expression workers). A job that passes its deadline, runs out of memory or kills its
 * worker gets an answer (never a hang) and its worker is replaced; a worker that dies between jobs
 * is dropped. Jobs wait in order for a free worker, at most `workers` of them at once.
 */
export interface WorkerPoolOptions<J, M, R> {
  workers: number;
  /** A new worker; it posts one message when it is ready. */
  spawn: () => Worker;
  /** Start the replacement of a broken worker at once (the next job does not wait for its boot). */
  prewarm: boolean;
  /** Milliseconds a job may take, from when its worker is ready. */
  deadlineMs: (job: J) => number;
  /** What is posted to the worker for a job. */
  message: (job: J) => unknown;
  /** The worker's answer → the result. */
  answer: (m: M) => R;
  /** The worker failed (out of memory, crashed) while running the job. */
  failed: (err: Error & { code?: string }) => R;
  /** The worker stopped while running the job. */
  exited: () => R;
  /** The job passed its deadline. */
  timedOut: (job: J) => R;
  /** The job could not be handed to the worker (not structured-cloneable). */
  unpostable: (err: Error) => R;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  busy: boolean;
}

interface Pending<J, R> {
  job: J;
  resolve: (r: R) => void;
}

export class WorkerPool<J, M, R> {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending<J, R>[] = [];
  private closed = false;

  constructor(private readonly o: WorkerPoolOptions<J, M, R>) {}

  run(job: J): Promise<R> {
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
    const worker = this.o.spawn();
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
    if (this.o.prewarm && !this.closed && this.slots.length < this.o.workers) this.slots.push(this.spawn());
  }

  private async dispatch(slot: Slot, p: Pending<J, R>): Promise<void> {
    const deadline: { timer?: NodeJS.Timeout } = {};
    let finished = false;
    const done = (r: R, broken = false) => {
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
    const onMessage = (m: M) => done(this.o.answer(m));
    const onError = (err: Error & { code?: string }) => done(this.o.failed(err), true);
    const onExit = () => done(this.o.exited(), true);
    try {
      await slot.ready;
    } catch (err) {
      onError(err as Error);
      return;
    }
    slot.worker.on('message', onMessage);
    slot.worker.once('error', onError);
    slot.worker.once('exit', onExit);
    deadline.timer = setTimeout(() => done(this.o.timedOut(p.job), true), this.o.deadlineMs(p.job));
    try {
      slot.worker.postMessage(this.o.message(p.job));
    } catch (err) {
      done(this.o.unpostable(err as Error));
    }
  }
}
