import Stripe from 'stripe';
import { expect, it } from 'vitest';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { fakeStripe, forSuite } from '../../platform/testing/fake-services.js';
import { describeEachDb } from '../../platform/testing/harness.js';

const WEBHOOK_SECRET = 'whsec_test_4f1c2b9a8e7d6c5b4a39281706f5e4d3';
const SECRET_KEY = 'sk_test_infinity_billing_51Hx';
const stripe = forSuite(fakeStripe);

/** An event as Stripe would post it, signed with the webhook secret (or another one). */
function signed(event: Record<string, unknown>, secret = WEBHOOK_SECRET, timestamp?: number) {
  const payload = JSON.stringify({ object: 'event', api_version: '2025-01-27', livemode: false, created: 1, ...event });
  return { payload, header: Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) }) };
}

describeEachDb(
  'billing: Stripe checkout, portal and signed webhooks set the plan',
  (h) => {
    let owner: Awaited<ReturnType<typeof signUp>>;
    const hook = (p: { payload: string; header?: string }) =>
      h().request({
        method: 'POST',
        url: '/api/v1/billing/stripe/webhook',
        payload: p.payload,
        headers: { 'content-type': 'application/json', ...(p.header ? { 'stripe-signature': p.header } : {}) },
      });
    const plan = async () => (await h().request({ method: 'GET', url: '/api/v1/billing', token: owner.token })).json().data.plan as string;

    it('an owner gets a checkout link from Stripe for the organization; editors cannot', async () => {
      owner = await signUp(h());
      const r = await h().request({ method: 'POST', url: '/api/v1/billing/checkout', token: owner.token, body: { plan: 'pro' } });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json().data.url).toMatch(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/);
      const call = stripe().calls.at(-1)!;
      expect(call).toMatchObject({ method: 'POST', path: '/v1/checkout/sessions', authorization: `Bearer ${SECRET_KEY}` });
      expect(call.form.get('client_reference_id')).toBe(owner.orgId);
      expect(call.form.get('line_items[0][price]')).toBe('price_pro_123');
      expect(call.form.get('metadata[plan]')).toBe('pro');
      const editor = await createApiKey(h(), owner.token, 'admin');
      expect((await h().request({ method: 'POST', url: '/api/v1/billing/checkout', apiKey: editor.key, body: { plan: 'pro' } })).statusCode).toBe(403);
      expect((await h().request({ method: 'POST', url: '/api/v1/billing/checkout', token: owner.token, body: { plan: 'gold' } })).statusCode).toBe(400);
      // No customer yet: no portal.
      expect((await h().request({ method: 'POST', url: '/api/v1/billing/portal', token: owner.token })).json().error.code).toBe('BILLING_NO_CUSTOMER');
    });

    it('a signed checkout.session.completed moves the organization to pro, once; a replay changes nothing', async () => {
      const event = signed({
        id: 'evt_checkout_1',
        type: 'checkout.session.completed',
        data: {
          object: {
            id: 'cs_test_1',
            object: 'checkout.session',
            client_reference_id: owner.orgId,
            customer: 'cus_123',
            subscription: 'sub_123',
            metadata: { orgId: owner.orgId, plan: 'pro' },
          },
        },
      });
      const r = await hook(event);
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json().data).toMatchObject({ received: true, handled: true, duplicate: false, plan: 'pro' });
      expect(await plan()).toBe('pro');
      const replay = await hook(event);
      expect(replay.statusCode).toBe(200);
      expect(replay.json().data).toMatchObject({ handled: false, duplicate: true });
      const audit = (await h().request({ method: 'GET', url: '/api/v1/audit?action=PLAN_CHANGE', token: owner.token })).json().data;
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ actor: { type: 'service' }, details: { from: 'free', to: 'pro', eventId: 'evt_checkout_1' } });
      // Now the customer exists: the portal link works.
      const portal = await h().request({ method: 'POST', url: '/api/v1/billing/portal', token: owner.token });
      expect(portal.json().data.url).toMatch(/^https:\/\/billing\.stripe\.test\//);
      expect(stripe().calls.at(-1)!.form.get('customer')).toBe('cus_123');
    });

    it('bad, missing, stale or foreign signatures are refused with 400 and change nothing', async () => {
      const body = {
        id: 'evt_bad_1',
        type: 'customer.subscription.deleted',
        data: { object: { id: 'sub_123', object: 'subscription', customer: 'cus_123', status: 'canceled', metadata: {}, items: { data: [] } } },
      };
      const wrongSecret = signed(body, 'whsec_someone_else');
      const stale = signed(body, WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 3600);
      const good = signed(body);
      const tampered = { payload: good.payload.replace('canceled', 'cancelled'), header: good.header };
      for (const attempt of [wrongSecret, stale, tampered, { payload: good.payload }, { payload: good.payload, header: 't=1,v1=abc' }]) {
        const r = await hook(attempt);
        expect(r.statusCode).toBe(400);
        expect(r.json().error.code).toBe('STRIPE_SIGNATURE_INVALID');
      }
      expect(await plan()).toBe('pro');
    });

    it('a signed event whose client_reference_id is not a UUID is acknowledged and changes nothing (was a 500)', async () => {
      const before = await plan();
      for (const [id, object] of [
        [
          'evt_foreign_ref',
          {
            id: 'cs_test_9',
            object: 'checkout.session',
            client_reference_id: 'order-42',
            customer: 'cus_other',
            subscription: 'sub_other',
            metadata: { plan: 'enterprise' },
          },
        ],
        [
          'evt_foreign_meta',
          {
            id: 'cs_test_10',
            object: 'checkout.session',
            client_reference_id: null,
            customer: 'cus_other',
            subscription: 'sub_other',
            metadata: { orgId: 'not-a-uuid', plan: 'enterprise' },
          },
        ],
      ] as const) {
        const r = await hook(signed({ id, type: 'checkout.session.completed', data: { object } }));
        expect(r.statusCode, r.body).toBe(200);
        expect(r.json().data).toMatchObject({ received: true, handled: false, duplicate: false });
      }
      const sub = signed({
        id: 'evt_foreign_sub',
        type: 'customer.subscription.updated',
        data: {
          object: {
            id: 'sub_other',
            object: 'subscription',
            customer: 'cus_unknown',
            status: 'active',
            metadata: { orgId: '12' },
            items: { data: [{ price: { id: 'price_ent_456' } }] },
          },
        },
      });
      const r = await hook(sub);
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json().data).toMatchObject({ handled: false });
      expect(await plan()).toBe(before);
    });

    it('subscription updates follow the price; deletion returns to free; unknown events are acknowledged', async () => {
      const updated = signed({
        id: 'evt_sub_up',
        type: 'customer.subscription.updated',
        data: {
          object: {
            id: 'sub_123',
            object: 'subscription',
            customer: 'cus_123',
            status: 'active',
            metadata: {},
            items: { data: [{ price: { id: 'price_ent_456' } }] },
          },
        },
      });
      expect((await hook(updated)).json().data).toMatchObject({ handled: true, plan: 'enterprise' });
      expect(await plan()).toBe('enterprise');
      const other = signed({ id: 'evt_other', type: 'invoice.paid', data: { object: { id: 'in_1', object: 'invoice' } } });
      const r = await hook(other);
      expect(r.statusCode).toBe(200);
      expect(r.json().data).toMatchObject({ received: true, handled: false, type: 'invoice.paid' });
      const deleted = signed({
        id: 'evt_sub_del',
        type: 'customer.subscription.deleted',
        data: { object: { id: 'sub_123', object: 'subscription', customer: 'cus_123', status: 'canceled', metadata: {}, items: { data: [] } } },
      });
      expect((await hook(deleted)).json().data).toMatchObject({ handled: true, plan: 'free' });
      expect(await plan()).toBe('free');
      // The plan is what quotas see at once.
      expect((await h().request({ method: 'GET', url: '/api/v1/usage', token: owner.token })).json().data.plan).toBe('free');
    });
  },
  {
    INFINITY_DEFAULT_PLAN: 'free',
    STRIPE_SECRET_KEY: SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_PRICE_PRO: 'price_pro_123',
    STRIPE_PRICE_ENTERPRISE: 'price_ent_456',
    get STRIPE_API_BASE() {
      return stripe().url;
    },
  },
);
