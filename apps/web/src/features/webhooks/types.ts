/** The webhooks API's shapes, as the server's contracts define them. */
export type { WebhookDelivery, WebhookEventType, WebhookSubscription } from '@infinity/contracts';
