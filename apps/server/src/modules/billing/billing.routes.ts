import { z } from 'zod';
import { type App, emptyBody } from '../../platform/http/index.js';
import { orgActorOf } from '../access/index.js';
import { type BillingContext, billingStatus, createCheckout, createPortal, handleStripeWebhook } from './billing.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    stripeRaw?: string;
  }
}

export function billingRoutes(ctx: BillingContext, opts: { bodyLimit: number }) {
  return async (app: App) => {
    app.get('/api/v1/billing', {
      config: { access: { permission: 'usage:read' } },
      schema: {
        operationId: 'getBilling',
        tags: ['billing'],
        summary: 'The organization’s plan and Stripe subscription state',
        response: {
          200: z.object({
            data: z.object({ plan: z.string(), customer: z.boolean(), subscription: z.boolean(), stripe: z.boolean(), purchasable: z.array(z.string()) }),
          }),
        },
      },
      handler: async (request) => ({ data: await billingStatus(ctx, orgActorOf(request)) }),
    });
    app.post('/api/v1/billing/checkout', {
      config: { access: { permission: 'billing:manage' } },
      schema: {
        operationId: 'createCheckoutLink',
        tags: ['billing'],
        summary: 'A Stripe Checkout link that subscribes this organization to a plan (owners)',
        body: z.strictObject({ plan: z.enum(['pro', 'enterprise']) }),
        response: { 200: z.object({ data: z.object({ id: z.string(), url: z.string().nullable() }) }) },
      },
      handler: async (request) => ({ data: await createCheckout(ctx, orgActorOf(request), request.body.plan) }),
    });
    app.post('/api/v1/billing/portal', {
      config: { access: { permission: 'billing:manage' } },
      schema: {
        operationId: 'createBillingPortalLink',
        tags: ['billing'],
        summary: 'A Stripe customer-portal link (payment method, invoices, cancel) (owners)',
        body: emptyBody,
        response: { 200: z.object({ data: z.object({ url: z.string() }) }) },
      },
      handler: async (request) => ({ data: await createPortal(ctx, orgActorOf(request)) }),
    });

    // The webhook needs the exact bytes Stripe signed: its own encapsulated JSON parser keeps them.
    await app.register(async (hook) => {
      hook.removeContentTypeParser('application/json');
      hook.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: opts.bodyLimit }, (request, body, done) => {
        request.stripeRaw = body as string;
        done(null, null);
      });
      hook.post('/api/v1/billing/stripe/webhook', {
        config: { access: { public: true } },
        schema: {
          operationId: 'receiveStripeWebhook',
          tags: ['billing'],
          summary:
            'Stripe events (signature verified): checkout.session.completed, customer.subscription.updated/deleted set the plan; others are acknowledged',
        },
        handler: async (request) => ({
          data: await handleStripeWebhook(ctx, request.stripeRaw ?? '', request.headers['stripe-signature'] as string | undefined, request.ip),
        }),
      });
    });
  };
}
