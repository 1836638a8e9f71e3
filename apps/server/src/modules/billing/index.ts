export { billingRoutes } from './billing.routes.js';
export { type BillingContext, type BillingConfig } from './billing.service.js';
export { billingErrors } from './billing.errors.js';
