import { defineErrors } from '../../platform/errors.js';

export const webhookErrors = defineErrors({
  WEBHOOK_SUBSCRIPTION_NOT_FOUND: { status: 404, description: 'No outbound webhook subscription with this id in this organization.' },
  WEBHOOK_DELIVERY_NOT_FOUND: { status: 404, description: 'No delivery with this id for this webhook subscription.' },
  WEBHOOK_TARGET_REFUSED: {
    status: 422,
    description:
      'The webhook URL is not one the server may call: not http(s), credentials in it, or a private or reserved address (an operator allows chosen addresses with INFINITY_HTTP_ALLOW).',
  },
  WEBHOOK_EVENT_UNKNOWN: { status: 400, description: 'An event name is not one webhooks deliver; the message lists the accepted ones.' },
  WEBHOOK_MODEL_INVALID: {
    status: 400,
    description: 'model is required with record.* events and allowed only with them, and must name a model of this organization.',
  },
  WEBHOOK_FILTER_INVALID: { status: 400, description: 'The filter is not valid in the records filter language for this model (or was given without a model).' },
  WEBHOOK_SUBSCRIPTION_DISABLED: { status: 409, description: 'The subscription is disabled: enable it (PATCH enabled: true) before sending to it.' },
});
