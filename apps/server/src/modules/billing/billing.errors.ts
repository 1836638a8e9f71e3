import { defineErrors } from '../../platform/errors.js';

export const billingErrors = defineErrors({
  BILLING_NOT_CONFIGURED: { status: 409, description: 'Stripe is not set up on this instance (STRIPE_SECRET_KEY, and a price id for the plan).' },
  BILLING_NO_CUSTOMER: { status: 409, description: 'The organization has no Stripe customer yet: subscribe through checkout first.' },
  BILLING_PROVIDER_ERROR: { status: 502, description: 'Stripe refused or failed the call; the message gives its reason.' },
  STRIPE_SIGNATURE_INVALID: {
    status: 400,
    description: 'The Stripe-Signature header is missing, malformed, too old, or does not match the body and the webhook secret; nothing was changed.',
  },
});
