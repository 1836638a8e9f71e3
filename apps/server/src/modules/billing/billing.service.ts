import { type Kysely, sql } from 'kysely';
import Stripe from 'stripe';
import { PLAN_NAMES, type PlanName } from '../../config/index.js';
import { inTransaction } from '../../platform/db/index.js';
import { isUuid } from '../../platform/ids.js';
import type { OrgActor, ServiceActor } from '../access/index.js';
import { recordAudit } from '../audit/index.js';
import { billingErrors } from './billing.errors.js';

export interface BillingConfig {
  secretKey: string | undefined;
  webhookSecret: string | undefined;
  prices: Partial<Record<'pro' | 'enterprise', string>>;
  apiBase: string | undefined;
  tolerance: number;
}

export interface BillingContext {
  db: Kysely<object>;
  config: BillingConfig;
  publicUrl: string;
  /** A plan changed: forget cached limits. */
  onPlanChanged: (orgId: string) => void;
}

interface OrgBilling {
  id: string;
  plan: PlanName;
  stripe_customer_id: string | null;
  stripe_subscription_id: string | null;
}

const clients = new WeakMap<BillingConfig, Stripe>();

/** The official client; STRIPE_API_BASE points it elsewhere (tests use a local fake). */
function stripeOf(c: BillingConfig): Stripe {
  let s = clients.get(c);
  if (s) return s;
  if (!c.secretKey) throw billingErrors.BILLING_NOT_CONFIGURED('Set STRIPE_SECRET_KEY to sell plans through Stripe.');
  const base = c.apiBase ? new URL(c.apiBase) : undefined;
  s = new Stripe(c.secretKey, {
    maxNetworkRetries: 1,
    telemetry: false,
    ...(base
      ? { host: base.hostname, port: base.port || (base.protocol === 'https:' ? 443 : 80), protocol: base.protocol === 'https:' ? 'https' : 'http' }
      : {}),
  });
  clients.set(c, s);
  return s;
}

async function orgBilling(db: Kysely<object>, orgId: string): Promise<OrgBilling> {
  const r = await sql<OrgBilling>`select id, plan, stripe_customer_id, stripe_subscription_id from organizations where id = ${orgId}`.execute(db);
  return r.rows[0]!;
}

function stripeFailure(err: unknown): never {
  const e = err as { type?: string; statusCode?: number; message?: string };
  throw billingErrors.BILLING_PROVIDER_ERROR(`Stripe: ${(e.message ?? 'request failed').slice(0, 300)}`, {
    status: e.statusCode ?? null,
    type: e.type ?? null,
  });
}

export async function billingStatus(ctx: BillingContext, actor: OrgActor) {
  const o = await orgBilling(ctx.db, actor.orgId);
  const plans = PLAN_NAMES.filter((p) => p !== 'free' && ctx.config.prices[p]);
  return {
    plan: o.plan,
    customer: o.stripe_customer_id !== null,
    subscription: o.stripe_subscription_id !== null,
    stripe: Boolean(ctx.config.secretKey),
    purchasable: plans,
  };
}

/** A Stripe Checkout page that subscribes the organization to a plan. */
export async function createCheckout(ctx: BillingContext, actor: OrgActor, plan: 'pro' | 'enterprise') {
  const price = ctx.config.prices[plan];
  if (!price) throw billingErrors.BILLING_NOT_CONFIGURED(`No Stripe price is set for the ${plan} plan (STRIPE_PRICE_${plan.toUpperCase()}).`);
  const stripe = stripeOf(ctx.config);
  const o = await orgBilling(ctx.db, actor.orgId);
  const session = await stripe.checkout.sessions
    .create({
      mode: 'subscription',
      line_items: [{ price, quantity: 1 }],
      client_reference_id: actor.orgId,
      ...(o.stripe_customer_id ? { customer: o.stripe_customer_id } : {}),
      metadata: { orgId: actor.orgId, plan },
      subscription_data: { metadata: { orgId: actor.orgId, plan } },
      success_url: `${ctx.publicUrl}/usage?checkout=success`,
      cancel_url: `${ctx.publicUrl}/usage?checkout=canceled`,
    })
    .catch(stripeFailure);
  return { id: session.id, url: session.url };
}

/** A Stripe customer-portal page (change card, cancel, invoices). */
export async function createPortal(ctx: BillingContext, actor: OrgActor) {
  const stripe = stripeOf(ctx.config);
  const o = await orgBilling(ctx.db, actor.orgId);
  if (!o.stripe_customer_id) throw billingErrors.BILLING_NO_CUSTOMER();
  const session = await stripe.billingPortal.sessions.create({ customer: o.stripe_customer_id, return_url: `${ctx.publicUrl}/usage` }).catch(stripeFailure);
  return { url: session.url };
}

const ACTIVE = new Set(['active', 'trialing', 'past_due']);

/**
 * An organization id from a Stripe object: only a UUID can be one of ours. Another integration on
 * the same Stripe account may set its own client_reference_id ("order-42"): that event is not for
 * an organization here (comparing it with the uuid column would fail the whole request).
 */
const orgIdOf = (...candidates: (string | null | undefined)[]): string | undefined => candidates.find((c): c is string => typeof c === 'string' && isUuid(c));

function planOfPrice(c: BillingConfig, price: string | undefined): PlanName | undefined {
  return (Object.entries(c.prices) as [PlanName, string][]).find(([, id]) => id === price)?.[0];
}

/** The plan change an event asks for, or null when it asks for none (unknown events are acknowledged and ignored). */
function changeOf(c: BillingConfig, event: Stripe.Event): { orgId?: string; customer?: string; plan: PlanName; subscription: string | null } | null {
  switch (event.type) {
    case 'checkout.session.completed': {
      const s = event.data.object;
      const plan = s.metadata?.plan as PlanName | undefined;
      const orgId = orgIdOf(s.client_reference_id, s.metadata?.orgId);
      if (!orgId || !plan || !(PLAN_NAMES as readonly string[]).includes(plan)) return null;
      const customer = typeof s.customer === 'string' ? s.customer : s.customer?.id;
      const subscription = typeof s.subscription === 'string' ? s.subscription : (s.subscription?.id ?? null);
      return { orgId, ...(customer ? { customer } : {}), plan, subscription };
    }
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted': {
      const sub = event.data.object;
      const customer = typeof sub.customer === 'string' ? sub.customer : sub.customer.id;
      const orgId = orgIdOf(sub.metadata?.orgId);
      if (event.type === 'customer.subscription.deleted' || !ACTIVE.has(sub.status))
        return { ...(orgId ? { orgId } : {}), customer, plan: 'free', subscription: null };
      const plan = planOfPrice(c, sub.items.data[0]?.price.id) ?? (sub.metadata?.plan as PlanName | undefined);
      if (!plan || !(PLAN_NAMES as readonly string[]).includes(plan)) return null;
      return { ...(orgId ? { orgId } : {}), customer, plan, subscription: sub.id };
    }
    default:
      return null;
  }
}

/**
 * A Stripe webhook: the signature over the raw body is verified first (nothing is read from an
 * unverified body); each event id is processed once (a replay changes nothing); the plan change,
 * the processed mark and the audit entry commit together.
 */
export async function handleStripeWebhook(ctx: BillingContext, raw: string, signature: string | undefined, ip: string) {
  if (!ctx.config.webhookSecret) throw billingErrors.STRIPE_SIGNATURE_INVALID('This instance has no STRIPE_WEBHOOK_SECRET: every event is refused.');
  if (!signature) throw billingErrors.STRIPE_SIGNATURE_INVALID('The Stripe-Signature header is missing.');
  let event: Stripe.Event;
  try {
    event = Stripe.webhooks.constructEvent(raw, signature, ctx.config.webhookSecret, ctx.config.tolerance);
  } catch (err) {
    throw billingErrors.STRIPE_SIGNATURE_INVALID(`The signature does not verify: ${((err as Error).message ?? '').split('\n')[0]!.slice(0, 200)}`);
  }
  const change = changeOf(ctx.config, event);
  const result = await inTransaction(ctx.db, async ({ trx }) => {
    const org = change
      ? (
          await sql<{
            id: string;
            plan: PlanName;
          }>`select id, plan from organizations where ${change.orgId ? sql`id = ${change.orgId}` : sql`stripe_customer_id = ${change.customer ?? ''}`} for update`.execute(
            trx,
          )
        ).rows[0]
      : undefined;
    const fresh = await sql<{
      id: string;
    }>`insert into stripe_events (id, type, org_id) values (${event.id}, ${event.type}, ${org?.id ?? null}) on conflict (id) do nothing returning id`.execute(
      trx,
    );
    if (!fresh.rows.length) return { handled: false, duplicate: true, orgId: null, plan: null };
    if (!change || !org) return { handled: false, duplicate: false, orgId: null, plan: null };
    await sql`update organizations set plan = ${change.plan},
      stripe_customer_id = coalesce(${change.customer ?? null}, stripe_customer_id),
      stripe_subscription_id = ${change.subscription}, updated_at = now() where id = ${org.id}`.execute(trx);
    const actor: ServiceActor = { kind: 'service', service: 'stripe', orgId: org.id, role: 'owner' };
    await recordAudit(trx, {
      orgId: org.id,
      actor,
      action: 'PLAN_CHANGE',
      target: { type: 'organization', id: org.id },
      ip,
      details: { from: org.plan, to: change.plan, event: event.type, eventId: event.id },
    });
    return { handled: true, duplicate: false, orgId: org.id, plan: change.plan };
  });
  if (result.orgId) ctx.onPlanChanged(result.orgId);
  return { received: true, type: event.type, ...result };
}
