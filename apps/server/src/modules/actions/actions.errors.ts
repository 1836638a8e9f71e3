import { defineErrors } from '../../platform/errors.js';

export const actionErrors = defineErrors({
  ACTION_NOT_FOUND: { status: 404, description: 'No action with this id in this organization.' },
  ACTION_RUN_NOT_FOUND: { status: 404, description: 'No action run with this id in this organization.' },
  ACTION_NAME_TAKEN: { status: 409, description: 'An action with this name exists already.' },
  ACTION_INVALID: {
    status: 422,
    description:
      'The action definition is inconsistent (unknown step or parameter referenced, duplicate ids, a model or field the organization does not have); details lists each problem.',
  },
  ACTION_PARAMS_INVALID: { status: 422, description: 'The run parameters do not match the action’s declared parameters; details lists each problem.' },
  ACTION_RUN_FAILED: {
    status: 422,
    description: 'A step failed; the whole run was rolled back. details names the step and the cause; the run record has the log.',
  },
});
