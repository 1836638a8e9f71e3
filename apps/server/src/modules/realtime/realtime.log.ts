import type { DomainEvent as TypedEvent } from '@infinity/contracts';
import type { Logger } from '../../platform/logger.js';
import { type Exec, eventsAfter, logEvents, pruneLog } from './realtime.repo.js';

/** Events replayed at most per reconnect; a longer gap is REPLAY_UNAVAILABLE. */
export const REPLAY_MAX = 1000;
/** How often buffered events are written (a reconnect waits this long twice for other processes' batches). */
export const LOG_FLUSH_MS = 100;

/**
 * The replay log (table realtime_events): every process with realtime subscribers writes the
 * channel events of their organizations in batches (`on conflict do nothing`: others log the same
 * ones), and keeps doing so for the replay window after an organization's last connection here
 * closed — a client reconnecting on another process finds what it missed. Pruned past the window.
 */
export class ReplayLog {
  private buffer: TypedEvent[] = [];
  private writing: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Exec,
    private readonly windowSeconds: number,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {}

  start(): void {
    this.pruneTimer = setInterval(() => {
      void pruneLog(this.db, this.windowSeconds + 60).catch((err: unknown) => this.logger.warn({ err }, 'could not prune the realtime replay log'));
    }, 60_000);
    this.pruneTimer.unref();
  }

  add(e: TypedEvent): void {
    this.buffer.push(e);
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => void this.flush(), LOG_FLUSH_MS);
    this.flushTimer.unref();
  }

  /** Writes what is buffered; resolves when every write so far is done. */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    if (batch.length)
      this.writing = this.writing
        .then(() => logEvents(this.db, batch))
        .catch((err: unknown) => this.logger.warn({ err }, 'could not write the realtime replay log'));
    return this.writing;
  }

  /** Events after `afterId` of these types; null when they cannot all be replayed. */
  async after(orgId: string, afterId: string, types: readonly string[]): Promise<TypedEvent[] | null> {
    await this.flush();
    const events = await eventsAfter(this.db, { orgId, afterId, types, windowSeconds: this.windowSeconds, limit: REPLAY_MAX + 1 });
    return events && events.length <= REPLAY_MAX ? events : null;
  }

  async stop(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.flush();
  }
}
