import type { Kysely } from 'kysely';
import { METRICS, type Limits, type Metric, type PlanLimits, type PlanName } from '../../config/index.js';
import { inTransaction } from '../../platform/db/index.js';
import type { EventOf, EventSpine } from '../../platform/events/index.js';
import type { Logger } from '../../platform/logger.js';
import type { Mailer } from '../../platform/mail.js';
import { usageErrors } from './usage.errors.js';
import { type UsageTables, claimAlert, claimMail, insertNotification, managerEmails, measure, monthStart, planOf, releaseMail } from './usage.repo.js';

/**
 * What other modules see of plans: a check before something is created or a model is called,
 * and a report after usage grew. Creating modules never learn what a plan is.
 */
export interface QuotaGate {
  /** Refuses with 402 PLAN_LIMIT_REACHED when `adding` more would pass the limit (0: when the limit is already used up). */
  check(orgId: string, metric: Metric, adding?: number): Promise<void>;
  /** Usage grew (or shrank, with a negative delta): keeps the counters right and raises alerts off the request path. */
  grew(orgId: string, metric: Metric, delta?: number): void;
}

/** Checks never refuse: for code paths (and tests) without plans. */
export const NO_QUOTAS: QuotaGate = { check: async () => undefined, grew: () => undefined };

const THRESHOLDS = [100, 80] as const;
/** Metrics that are costly to count (or hot to check) are counted at most this often per process; in between, growth reported here is added. */
const COUNT_TTL_MS = 5000;
const CACHED: ReadonlySet<Metric> = new Set<Metric>(['records', 'storageMb', 'executionsPerMonth', 'tokensPerMonth']);
const PLAN_TTL_MS = 30_000;

export const METRIC_LABELS: Record<Metric, string> = {
  agents: 'agents',
  flows: 'flows',
  models: 'models',
  records: 'records',
  storageMb: 'storage (MiB)',
  executionsPerMonth: 'flow executions this month',
  tokensPerMonth: 'LLM tokens this month',
};

export const monthly = (m: Metric) => m.endsWith('PerMonth');
export const periodOf = (m: Metric, now = new Date()) => (monthly(m) ? monthStart(now).toISOString().slice(0, 7) : 'current');

export interface QuotasOptions {
  db: Kysely<UsageTables>;
  limits: PlanLimits;
  events: EventSpine;
  logger: Logger;
  mailer: Mailer | null;
  publicUrl: string;
}

/**
 * Plans enforced with counters: exact counts for things created rarely (agents, flows, models);
 * for hot ones (records, executions, tokens, storage) a count refreshed every few seconds plus
 * what this process added since. NB: several processes may together overshoot a limit by what
 * they add within one refresh interval; a hard stop for spend (tokens) is still one interval away.
 */
export class Quotas implements QuotaGate {
  private readonly plans = new Map<string, { plan: PlanName; at: number }>();
  private readonly counts = new Map<string, { value: number; at: number; period: string }>();
  private readonly fired = new Set<string>();
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly o: QuotasOptions) {
    // The email of an alert is a durable consumer: sent after the alert commits, at least once
    // delivered and (claimed on the notification) sent once.
    const mailer = o.mailer;
    if (mailer)
      o.events.consume({ name: 'usage-alert-mail', types: ['usage.alert'], handle: (e) => this.track(this.mail(mailer, e as EventOf<'usage.alert'>)) });
  }

  async plan(orgId: string): Promise<PlanName> {
    const c = this.plans.get(orgId);
    if (c && performance.now() - c.at < PLAN_TTL_MS) return c.plan;
    const plan = (await planOf(this.o.db, orgId)) ?? 'free';
    this.plans.set(orgId, { plan, at: performance.now() });
    return plan;
  }

  /** Forget what is cached of an organization (its plan changed). */
  forget(orgId: string): void {
    this.plans.delete(orgId);
  }

  limitsOf(plan: PlanName): Limits {
    return this.o.limits[plan];
  }

  async used(orgId: string, metric: Metric): Promise<number> {
    if (!CACHED.has(metric)) return measure(this.o.db, orgId, metric);
    const key = `${orgId}:${metric}`;
    const period = periodOf(metric);
    const c = this.counts.get(key);
    if (c && c.period === period && performance.now() - c.at < COUNT_TTL_MS) return c.value;
    const value = await measure(this.o.db, orgId, metric);
    this.counts.set(key, { value, at: performance.now(), period });
    return value;
  }

  async check(orgId: string, metric: Metric, adding = 1): Promise<void> {
    const plan = await this.plan(orgId);
    const limit = this.o.limits[plan][metric];
    if (limit === null) return;
    const used = await this.used(orgId, metric);
    if (adding > 0 ? used + adding <= limit : used < limit) return;
    const what = METRIC_LABELS[metric];
    throw usageErrors.PLAN_LIMIT_REACHED(
      `The ${plan} plan allows ${limit} ${what}; this organization uses ${Math.round(used)}${adding > 1 ? ` and this would add ${adding}` : ''}. Upgrade the plan${monthly(metric) ? ' or wait for next month' : ' or remove some first'}.`,
      { metric, limit, used: Math.round(used), adding, plan },
    );
  }

  grew(orgId: string, metric: Metric, delta = 1): void {
    const c = this.counts.get(`${orgId}:${metric}`);
    if (c && c.period === periodOf(metric)) c.value += delta;
    if (delta <= 0) return;
    // Hot path (every execution, every record): nothing to alert on for an unlimited metric.
    const plan = this.plans.get(orgId);
    if (plan && performance.now() - plan.at < PLAN_TTL_MS && this.o.limits[plan.plan][metric] === null) return;
    void this.track(this.alertIfNeeded(orgId, metric)).catch((err: unknown) => this.o.logger.warn({ err, metric }, 'usage alert failed'));
  }

  /** Keeps work of this process in `pending` until it ends, for settle(). */
  private track(p: Promise<void>): Promise<void> {
    const tracked = p.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
    return tracked;
  }

  /** Waits for alerts (and their emails) in progress in this process (tests, shutdown). */
  async settle(): Promise<void> {
    do {
      while (this.pending.size) await Promise.allSettled([...this.pending]);
      // An alert's e-mail is a durable consumer: it goes out when this process's outbox drain runs.
      await this.o.events.settled();
    } while (this.pending.size);
  }

  /** Every metric of the organization with its limit, for GET /usage. */
  async report(orgId: string) {
    const plan = await this.plan(orgId);
    const limits = this.o.limits[plan];
    const metrics = await Promise.all(
      METRICS.map(async (metric) => {
        const used = metric === 'storageMb' ? Math.round((await measure(this.o.db, orgId, metric)) * 100) / 100 : await measure(this.o.db, orgId, metric);
        const limit = limits[metric];
        const period = monthly(metric) ? { from: monthStart().toISOString(), to: nextMonth().toISOString() } : null;
        return { metric, label: METRIC_LABELS[metric], used, limit, percent: limit ? Math.min(999, Math.round((used / limit) * 1000) / 10) : null, period };
      }),
    );
    return { plan, metrics };
  }

  private async alertIfNeeded(orgId: string, metric: Metric): Promise<void> {
    const plan = await this.plan(orgId);
    const limit = this.o.limits[plan][metric];
    if (!limit) return;
    const period = periodOf(metric);
    const base = `${orgId}:${metric}:${period}`;
    if (this.fired.has(`${base}:100`)) return;
    const used = await this.used(orgId, metric);
    const crossed = THRESHOLDS.filter((t) => used >= (limit * t) / 100);
    if (!crossed.length || crossed.every((t) => this.fired.has(`${base}:${t}`))) return;
    for (const t of crossed) this.fired.add(`${base}:${t}`);
    // The claims, the notification and its events commit together: an alert is announced once,
    // and an announced alert is never lost (usage.alert and notification.created are durable).
    await inTransaction(this.o.db, async (uow) => {
      // One message for the highest threshold passed; lower ones passed at the same time are only marked.
      let announce: number | undefined;
      for (const t of crossed) if ((await claimAlert(uow.trx, { orgId, metric, threshold: t, period })) && announce === undefined) announce = t;
      if (announce === undefined) return;
      const a = { orgId, metric, threshold: announce, used, limit, plan, period };
      const n = await insertNotification(uow.trx, { orgId, kind: 'usage.alert', ...this.message(a) });
      const common = { orgId, permission: 'usage:read' as const, actor: { type: 'system' as const, id: null } };
      this.o.events.emit(uow, { ...common, type: 'usage.alert', notificationId: n.id, metric, percent: announce, used: Math.round(used), limit });
      this.o.events.emit(uow, {
        ...common,
        permission: 'notifications:read',
        type: 'notification.created',
        notificationId: n.id,
        kind: n.kind,
        title: n.title,
      });
    });
  }

  /** The alert as the notification (and its email) tells it. */
  private message(a: { metric: Metric; threshold: number; used: number; limit: number; plan: PlanName; period: string }) {
    const what = METRIC_LABELS[a.metric];
    const title = a.threshold >= 100 ? `Limit reached: ${what}` : `${a.threshold}% of the ${what} limit used`;
    const body =
      a.threshold >= 100
        ? `This organization has used all ${a.limit} ${what} of the ${a.plan} plan. ${a.metric === 'tokensPerMonth' ? 'Model calls are refused' : 'New ones are refused'} until the plan is upgraded${monthly(a.metric) ? ' or the month ends' : ''}.`
        : `This organization has used ${Math.round(a.used)} of ${a.limit} ${what} allowed by the ${a.plan} plan.`;
    const data = { metric: a.metric, threshold: a.threshold, used: Math.round(a.used), limit: a.limit, plan: a.plan, period: a.period };
    return { title, body, data };
  }

  /** Emails an alert to the organization's owners and admins, once per notification. */
  private async mail(mailer: Mailer, e: EventOf<'usage.alert'>): Promise<void> {
    const n = await claimMail(this.o.db, e.orgId, e.notificationId);
    if (!n) return;
    try {
      const to = await managerEmails(this.o.db, e.orgId);
      if (to.length) await mailer.send({ to, subject: `[Infinity] ${n.title}`, text: `${n.body}\n\nSee usage: ${this.o.publicUrl}/usage\n` });
    } catch (err) {
      // Not sent: the claim is given back and the spine delivers the event again.
      await releaseMail(this.o.db, e.notificationId);
      throw err;
    }
  }
}

function nextMonth(): Date {
  const s = monthStart();
  return new Date(Date.UTC(s.getUTCFullYear(), s.getUTCMonth() + 1, 1));
}
