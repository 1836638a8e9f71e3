/**
 * The running parts of an app (workers, timers, listeners, connections) as ONE ordered list:
 * `start()` starts them in list order, `stop()` stops them in reverse. Building the app only
 * constructs; nothing runs until `start()` (tests and tools build without side effects).
 *
 *   build ──▶ [s1, s2, …, sN]  ── start() ──▶ s1.start, s2.start, …, sN.start
 *                               ── stop()  ──▶ sN.stop, …, s2.stop, s1.stop
 *
 * So a service is listed after everything it uses: it starts once they run, and stops before them.
 */
export interface Service {
  readonly name: string;
  start?(): void | Promise<void>;
  /** Called once on shutdown, also for a service whose start was never called (it must cope). */
  stop?(): void | Promise<void>;
}

export class ServiceList {
  private started = 0;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly services: readonly Service[],
    private readonly onStopError: (err: unknown, service: string) => void = () => {},
  ) {}

  /** The services' names in start order. */
  get names(): string[] {
    return this.services.map((s) => s.name);
  }

  /** Starts every service in order; when one fails, the whole list is stopped (in reverse) and the error is thrown. */
  async start(): Promise<void> {
    if (this.stopping) throw new Error('the services were stopped; build a new app to start again');
    for (; this.started < this.services.length; this.started++) {
      const s = this.services[this.started]!;
      try {
        await s.start?.();
      } catch (err) {
        await this.stop();
        throw err;
      }
    }
  }

  /**
   * Stops every service in reverse order, each once; one failing to stop does not keep the
   * others running (its error goes to `onStopError`). Concurrent callers share one shutdown.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const s of [...this.services].reverse()) {
        try {
          await s.stop?.();
        } catch (err) {
          this.onStopError(err, s.name);
        }
      }
    })();
    return this.stopping;
  }
}
