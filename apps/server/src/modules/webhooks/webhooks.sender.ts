import { Webhook } from 'standardwebhooks';
import type { Logger } from '../../platform/logger.js';
import type { OutboundHttp } from '../../platform/net/outbound-http.js';
import { VERSION } from '../../version.js';
import { can, type Permission } from '../access/index.js';
import type { Authority } from '../identity/index.js';
import * as repo from './webhooks.repo.js';
import { WEBHOOK_EVENTS } from './webhooks.subscriptions.js';
import type { WebhookTables } from './webhooks.tables.js';
import type { Kysely } from 'kysely';

/**
 * The sender: every process claims due deliveries (SKIP LOCKED, with a lease), sends them side by
 * side over keep-alive connections through the outbound guard, and records each attempt.
 *
 *   webhook_deliveries (next_attempt_at <= now) ──claim batch──► lane ──POST (≤ concurrency)──► target
 *        ▲                                                        │
 *        └──── one update + one attempts insert per batch ◄───────┘  2xx delivered · 410 disables
 *                                                                    · else retry (backoff) or failed
 */

/** Time and chance, injected so tests drive the retry schedule without waiting. */
export interface Clock {
  now(): number;
  random(): number;
}
export const systemClock: Clock = { now: () => Date.now(), random: () => Math.random() };

/** Delays before retries 1…10: about a day in all (23 h 47 min before jitter). */
export const RETRY_DELAYS_MS = [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 28_800_000] as const;
/** Attempts a delivery gets in all: the first and one per retry delay. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** The delay before the next try after `attempts` failed ones (±20% jitter), or null when none is left. */
export function retryDelayMs(attempts: number, random: number): number | null {
  const base = RETRY_DELAYS_MS[attempts - 1];
  if (base === undefined) return null;
  return Math.round(base * (0.8 + 0.4 * random));
}

const EXCERPT_CHARS = 1024;
/** Finished deliveries stay in the log this long (pruned hourly by every process; cheap when nothing is due). */
export const LOG_DAYS = 30;
const READ_BYTES = 4096;

export interface SenderHook {
  id: string;
  org_id: string;
  url: string;
  enabled: boolean;
  last_success_at: Date | null;
}

export interface SenderOptions {
  db: Kysely<WebhookTables>;
  outbound: Pick<OutboundHttp, 'request'>;
  logger: Pick<Logger, 'warn' | 'error'>;
  clock: Clock;
  /** The subscription's signing secret (`whsec_…`), decrypted. */
  secretOf: (hook: repo.WebhookWithSecret) => Promise<string>;
  /** Whose authority the subscription acts with, now. */
  authorityOf: (hook: repo.WebhookWithSecret) => Promise<Authority>;
  /** Disables a subscription (once), notifying its organization's owners and admins. */
  disable: (hook: SenderHook, reason: string) => Promise<void>;
  timeoutMs?: number;
  leaseMs?: number;
  batch?: number;
  /** Requests in flight per lane. */
  concurrency?: number;
  /** Lanes claiming side by side (a slow target holds one lane, not the sender). */
  lanes?: number;
  /** Looks for due retries (and deliveries other processes wrote) this often. */
  pollMs?: number;
}

export interface Outcome {
  status: repo.DeliveryStatus;
  statusCode: number | null;
  durationMs: number;
  excerpt: string | null;
  error: string | null;
  /** 410 Gone: the target asks for the subscription to end. */
  gone: boolean;
}

/** Why a subscription's authority no longer covers a delivery, or null when it does. */
export function authorityLost(a: Authority, eventType: string): string | null {
  if (!a.role) return a.reason;
  const need: Permission = (WEBHOOK_EVENTS as Record<string, Permission>)[eventType] ?? 'webhooks:manage';
  for (const p of ['webhooks:manage', need] as const) if (!can(a.role, p)) return `its creator's role (${a.role}) no longer holds ${p}`;
  return null;
}

export class WebhookSender {
  private running = 0;
  private again = false;
  private stopped = true;
  private readonly lanes = new Set<Promise<void>>();
  private poll: NodeJS.Timeout | undefined;
  private prune: NodeJS.Timeout | undefined;
  private signers = new Map<string, { version: number; signer: Webhook }>();
  private readonly o: Required<Omit<SenderOptions, 'clock'>> & { clock: Clock };

  constructor(o: SenderOptions) {
    this.o = { timeoutMs: 10_000, leaseMs: 60_000, batch: 100, concurrency: 50, lanes: 4, pollMs: 1000, ...o };
  }

  /** Tests swap the clock (and its random source) to drive retries. */
  get clock(): Clock {
    return this.o.clock;
  }
  set clock(c: Clock) {
    this.o.clock = c;
  }

  start(): void {
    this.stopped = false;
    this.poll = setInterval(() => this.wake(), this.o.pollMs);
    this.poll.unref();
    this.prune = setInterval(
      () => void repo.pruneDeliveries(this.o.db, LOG_DAYS).catch((err: unknown) => this.o.logger.warn({ err }, 'could not prune the webhook delivery log')),
      3_600_000,
    );
    this.prune.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    clearInterval(this.prune);
    await this.idle();
  }

  /** Resolves when no lane is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.lanes.size) await Promise.allSettled([...this.lanes]);
  }

  /** Claim and send now (deliveries were written, a retry is due). */
  wake(): void {
    if (this.stopped) return;
    if (this.running >= this.o.lanes) {
      this.again = true;
      return;
    }
    this.running++;
    const lane = this.lane().finally(() => {
      this.running--;
      this.lanes.delete(lane);
      if (this.again && this.running < this.o.lanes) {
        this.again = false;
        this.wake();
      }
    });
    this.lanes.add(lane);
  }

  private async lane(): Promise<void> {
    while (!this.stopped) {
      let rows: repo.ClaimedDelivery[];
      try {
        const now = this.o.clock.now();
        rows = await repo.claimDue(this.o.db, { now: new Date(now), leaseUntil: new Date(now + this.o.leaseMs) }, this.o.batch);
      } catch (err) {
        this.o.logger.warn({ err }, 'could not claim webhook deliveries; retrying at the next poll');
        return;
      }
      if (rows.length === 0) return;
      // A full batch: more may be due, so another lane joins in.
      if (rows.length === this.o.batch && this.running < this.o.lanes) this.wake();
      try {
        await this.sendBatch(rows);
      } catch (err) {
        // Not recorded: the lease lapses and the batch is claimed again.
        this.o.logger.error({ err }, 'webhook delivery batch failed');
        return;
      }
      // Less than a batch was due: none is left but what was written meanwhile, whose wake-up
      // started a lane of its own (or, all lanes busy, the next lane to end starts one).
      if (rows.length < this.o.batch) return;
    }
  }

  private async sendBatch(rows: repo.ClaimedDelivery[]): Promise<void> {
    const hooks = new Map((await repo.webhooksWithSecret(this.o.db, [...new Set(rows.map((r) => r.webhook_id))])).map((h) => [h.id, h]));
    const lost = new Map<string, string | null>();
    const results: repo.AttemptResult[] = [];
    const toDisable = new Map<string, { hook: SenderHook; reason: string }>();
    const delivered = new Set<string>();
    let next = 0;
    const work = async () => {
      while (next < rows.length) {
        const d = rows[next++]!;
        const hook = hooks.get(d.webhook_id);
        const at = new Date(this.o.clock.now());
        if (!hook || !hook.enabled) {
          results.push(skipped(d, at, hook ? `subscription disabled: ${hook.disabled_reason ?? 'by an admin'}` : 'subscription deleted'));
          continue;
        }
        const key = `${hook.id}:${d.event_type}`;
        if (!lost.has(key)) lost.set(key, authorityLost(await this.o.authorityOf(hook), d.event_type));
        const why = lost.get(key);
        if (why) {
          toDisable.set(hook.id, { hook, reason: `Its authority was lost: ${why}.` });
          results.push(skipped(d, at, `subscription disabled: authority lost (${why})`));
          continue;
        }
        const out = await this.attempt(hook, d.id, d.body);
        let status = out.status;
        let nextAt: Date | null = null;
        if (status === 'delivered') delivered.add(hook.id);
        else if (out.gone) toDisable.set(hook.id, { hook, reason: 'The target answered 410 Gone.' });
        else {
          const delay = retryDelayMs(d.attempts, this.o.clock.random());
          if (delay !== null) {
            status = 'pending';
            nextAt = new Date(this.o.clock.now() + delay);
          } else if (!hook.last_success_at || hook.last_success_at < d.created_at) {
            // Exhausted (about a day) with nothing delivered to it since this event: the target is gone.
            toDisable.set(hook.id, { hook, reason: `A delivery failed ${MAX_ATTEMPTS} times over about a day and nothing was delivered meanwhile.` });
          }
        }
        results.push({ ...attemptFields(out), deliveryId: d.id, attempt: d.attempts, status, nextAttemptAt: nextAt, at });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency, rows.length) }, work));
    await repo.recordAttempts(this.o.db, results);
    if (delivered.size) await repo.noteSuccess(this.o.db, [...delivered], new Date(this.o.clock.now()));
    for (const { hook, reason } of toDisable.values()) await this.o.disable(hook, reason);
  }

  /** One signed POST of a delivery's body: what happened (never throws). */
  async attempt(hook: repo.WebhookWithSecret, deliveryId: string, body: string): Promise<Outcome> {
    const started = performance.now();
    try {
      const signer = await this.signer(hook);
      const ts = new Date(this.o.clock.now());
      const res = await this.o.outbound.request({
        method: 'POST',
        url: hook.url,
        headers: {
          'content-type': 'application/json',
          'user-agent': `Infinity-Webhooks/${VERSION}`,
          'webhook-id': deliveryId,
          'webhook-timestamp': String(Math.floor(ts.getTime() / 1000)),
          'webhook-signature': signer.sign(deliveryId, ts, body),
        },
        body,
        timeoutMs: this.o.timeoutMs,
        maxBytes: READ_BYTES,
        overflow: 'truncate',
        maxRedirects: 0,
      });
      const ok = res.status >= 200 && res.status < 300;
      const excerpt = Buffer.from(res.body).toString('utf8').slice(0, EXCERPT_CHARS) || null;
      return {
        status: ok ? 'delivered' : 'failed',
        statusCode: res.status,
        durationMs: Math.round(performance.now() - started),
        excerpt,
        error: ok ? null : `HTTP ${res.status}`,
        gone: res.status === 410,
      };
    } catch (err) {
      const message = err instanceof Error ? (err.name === 'TimeoutError' ? `no answer within ${this.o.timeoutMs} ms` : err.message) : String(err);
      return {
        status: 'failed',
        statusCode: null,
        durationMs: Math.round(performance.now() - started),
        excerpt: null,
        error: message.slice(0, 500),
        gone: false,
      };
    }
  }

  private async signer(hook: repo.WebhookWithSecret): Promise<Webhook> {
    const hit = this.signers.get(hook.id);
    if (hit && hit.version === hook.version) return hit.signer;
    const signer = new Webhook(await this.o.secretOf(hook));
    if (this.signers.size > 10_000) this.signers = new Map();
    this.signers.set(hook.id, { version: hook.version, signer });
    return signer;
  }
}

/** What an outcome puts in the attempt log. */
export function attemptFields(o: Outcome) {
  return { statusCode: o.statusCode, durationMs: o.durationMs, excerpt: o.excerpt, error: o.error };
}

function skipped(d: repo.ClaimedDelivery, at: Date, reason: string): repo.AttemptResult {
  return { deliveryId: d.id, attempt: d.attempts, status: 'skipped', nextAttemptAt: null, statusCode: null, durationMs: 0, excerpt: null, error: reason, at };
}
