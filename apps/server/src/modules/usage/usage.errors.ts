import { defineErrors } from '../../platform/errors.js';

export const usageErrors = defineErrors({
  PLAN_LIMIT_REACHED: {
    status: 402,
    description:
      'The organization’s plan does not allow more of this (details name the metric, the limit, the usage and the plan); upgrade the plan or remove something first.',
  },
  NOTIFICATION_NOT_FOUND: { status: 404, description: 'No notification with this id in this organization.' },
});
