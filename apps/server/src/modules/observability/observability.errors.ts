import { defineErrors } from '../../platform/errors.js';

export const observabilityErrors = defineErrors({
  METRICS_DISABLED: { status: 403, description: '/metrics is refused until the operator sets INFINITY_METRICS_TOKEN.' },
  STATS_RANGE_INVALID: { status: 422, description: 'The stats window is empty, reversed, or cut into too many buckets for the interval.' },
});
