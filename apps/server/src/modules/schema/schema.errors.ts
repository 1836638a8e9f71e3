import { defineErrors } from '../../platform/errors.js';

export const schemaErrors = defineErrors({
  MODEL_NOT_FOUND: { status: 404, description: 'No model with this name in this organization.' },
  MODEL_NAME_TAKEN: { status: 409, description: 'A model with this name exists already.' },
  MODEL_INVALID: { status: 422, description: 'The model definition is inconsistent; details lists each problem.' },
  MODEL_RELATION_TARGET_MISSING: { status: 422, description: 'A relation names a model that does not exist (create the target first).' },
  MODEL_CHANGE_UNSAFE: { status: 422, description: 'The change would lose data or fail on existing rows; details says which field, why, and how to proceed.' },
  MODEL_IN_USE: { status: 409, description: 'Other models have relations to this model; drop or retarget those fields first.' },
  MODEL_FIELD_NOT_FOUND: { status: 422, description: 'The change names a field the model does not have.' },
});
