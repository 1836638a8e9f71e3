import type { Kysely } from 'kysely';
import { METRICS, type Limits, type Metric, type PlanLimits, type PlanName } from '../../config/index.js';
import type { EventBus } from '../../platform/events/index.js';
import type { Logger } from '../../platform/logger.js';
import type { Mailer } from '../../platform/mail.js';
import { usageErrors } from './usage.errors.js';
import { type UsageTables, claimAlert, insertNotification, managerEmails, measure, monthStart, planOf } from './usage.repo.js';

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
  events: EventBus;
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

  constructor(private readonly o: QuotasOptions) {}

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
    const p = this.alertIfNeeded(orgId, metric)
      .catch((err: unknown) => this.o.logger.warn({ err, metric }, 'usage alert failed'))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Waits for alerts in progress (tests, shutdown). */
  async settle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
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
    // One message for the highest threshold passed; lower ones passed at the same time are only marked.
    let announce: number | undefined;
    for (const t of crossed) {
      this.fired.add(`${base}:${t}`);
      if ((await claimAlert(this.o.db, { orgId, metric, threshold: t, period })) && announce === undefined) announce = t;
    }
    if (announce === undefined) return;
    await this.announce({ orgId, metric, threshold: announce, used, limit, plan, period });
  }

  private async announce(a: { orgId: string; metric: Metric; threshold: number; used: number; limit: number; plan: PlanName; period: string }): Promise<void> {
    const what = METRIC_LABELS[a.metric];
    const title = a.threshold >= 100 ? `Limit reached: ${what}` : `${a.threshold}% of the ${what} limit used`;
    const body =
      a.threshold >= 100
        ? `This organization has used all ${a.limit} ${what} of the ${a.plan} plan. ${a.metric === 'tokensPerMonth' ? 'Model calls are refused' : 'New ones are refused'} until the plan is upgraded${monthly(a.metric) ? ' or the month ends' : ''}.`
        : `This organization has used ${Math.round(a.used)} of ${a.limit} ${what} allowed by the ${a.plan} plan.`;
    const data = { metric: a.metric, threshold: a.threshold, used: Math.round(a.used), limit: a.limit, plan: a.plan, period: a.period };
    const n = await insertNotification(this.o.db, { orgId: a.orgId, kind: 'usage.alert', title, body, data });
    this.o.events.publish({ type: 'usage.alert', orgId: a.orgId, notificationId: n.id, ...data });
    if (this.o.mailer) {
      const to = await managerEmails(this.o.db, a.orgId);
      if (to.length) await this.o.mailer.send({ to, subject: `[Infinity] ${title}`, text: `${body}\n\nSee usage: ${this.o.publicUrl}/usage\n` });
    }
  }
}

function nextMonth(): Date {
  const s = monthStart();
  return new Date(Date.UTC(s.getUTCFullYear(), s.getUTCMonth() + 1, 1));
}
