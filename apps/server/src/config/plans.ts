import { z } from 'zod';

export const PLAN_NAMES = ['free', 'pro', 'enterprise'] as const;
export type PlanName = (typeof PLAN_NAMES)[number];

/** What a plan limits. Counts are of things that exist now; "PerMonth" ones reset each calendar month (UTC). */
export const METRICS = ['agents', 'flows', 'models', 'records', 'storageMb', 'executionsPerMonth', 'tokensPerMonth'] as const;
export type Metric = (typeof METRICS)[number];

/** null = unlimited. */
export type Limits = Record<Metric, number | null>;
export type PlanLimits = Record<PlanName, Limits>;

export const DEFAULT_PLAN_LIMITS: PlanLimits = {
  free: { agents: 1, flows: 20, models: 20, records: 50_000, storageMb: 500, executionsPerMonth: 10_000, tokensPerMonth: 1_000_000 },
  pro: { agents: 5, flows: 200, models: 200, records: 1_000_000, storageMb: 10_240, executionsPerMonth: 250_000, tokensPerMonth: 10_000_000 },
  enterprise: { agents: null, flows: null, models: null, records: null, storageMb: null, executionsPerMonth: null, tokensPerMonth: null },
};

const overrideSchema = z.partialRecord(
  z.enum(PLAN_NAMES),
  z.strictObject(
    Object.fromEntries(METRICS.map((m) => [m, z.number().int().min(0).nullable().optional()])) as Record<Metric, z.ZodOptional<z.ZodNullable<z.ZodNumber>>>,
  ),
);

/** The default limits with INFINITY_PLAN_LIMITS laid over them; a bad value is a config problem. */
export function parsePlanLimits(json: string | undefined): { limits: PlanLimits } | { problems: string[] } {
  if (!json) return { limits: DEFAULT_PLAN_LIMITS };
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return { problems: ['INFINITY_PLAN_LIMITS: is not JSON'] };
  }
  const parsed = overrideSchema.safeParse(raw);
  if (!parsed.success) return { problems: parsed.error.issues.map((i) => `INFINITY_PLAN_LIMITS.${i.path.join('.')}: ${i.message}`) };
  const limits = structuredClone(DEFAULT_PLAN_LIMITS);
  for (const plan of PLAN_NAMES) {
    for (const [metric, value] of Object.entries(parsed.data[plan] ?? {})) if (value !== undefined) limits[plan][metric as Metric] = value;
  }
  return { limits };
}

const ROUTE_RE = /^(GET|POST|PUT|PATCH|DELETE) (\/\S*)=(\d+)$/;

/** "POST /api/v1/auth/login=20,GET /api/v1/data/:model=600" → { "POST /api/v1/auth/login": 20, … }. */
export function parseRouteLimits(text: string | undefined): { routes: Record<string, number> } | { problems: string[] } {
  const routes: Record<string, number> = {};
  const problems: string[] = [];
  for (const part of (text ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = ROUTE_RE.exec(part);
    if (!m || Number(m[3]) < 1) problems.push(`INFINITY_RATE_LIMIT_ROUTES: "${part}" is not "METHOD /path=requests-per-minute"`);
    else routes[`${m[1]} ${m[2]}`] = Number(m[3]);
  }
  return problems.length ? { problems } : { routes };
}
