// @ts-check
'use strict';

const { callApi, seg } = require('./api');

/**
 * @typedef {import('zapier-platform-core').ZObject} ZObject
 * @typedef {import('zapier-platform-core').Bundle} Bundle
 * @typedef {import('zapier-platform-core').PlainInputField} InputField
 * @typedef {{ name: string, label?: string, description?: string, type: string, required?: boolean, default?: unknown,
 *   values?: string[], items?: string, target?: string }} ModelField
 * @typedef {{ id: string, name: string, label: string, description: string, fields: ModelField[] }} Model
 */

/** Input keys of a model's fields carry this prefix, so a field named `model` or `id` never collides with the step's own inputs. */
const FIELD_PREFIX = 'field__';

/**
 * A model's definition (`GET /api/v1/models/{name}`).
 * @param {ZObject} z
 * @param {Bundle} bundle
 * @param {unknown} name
 * @returns {Promise<Model>}
 */
const getModel = (z, bundle, name) => callApi(z, bundle, { path: `/models/${seg(name)}` });

/**
 * How Zapier asks for a value of each scalar field type, and what the help says it expects.
 * @type {Record<string, { type: 'string' | 'text' | 'integer' | 'number' | 'boolean' | 'datetime', expects: string }>}
 */
const SCALARS = {
  string: { type: 'string', expects: 'Text.' },
  text: { type: 'text', expects: 'Long text.' },
  integer: { type: 'integer', expects: 'A whole number.' },
  number: { type: 'number', expects: 'A number.' },
  boolean: { type: 'boolean', expects: 'Yes or no.' },
  date: { type: 'string', expects: 'A date as YYYY-MM-DD.' },
  datetime: { type: 'datetime', expects: 'A date and time.' },
  json: { type: 'text', expects: 'JSON (an object, array, number, string, true, false or null).' },
};

/**
 * How one field of a model is asked for in Zapier: its type, whether it is required, its choices
 * and a help text (the field's description, else what the type expects).
 * @param {ModelField} f
 * @param {{ forUpdate: boolean }} mode  updates ask for nothing as required
 * @returns {InputField}
 */
function inputFieldOf(f, { forUpdate }) {
  /** @type {InputField} */
  const field = { key: FIELD_PREFIX + f.name, label: f.label ?? f.name, type: 'string' };
  // A required field with a default may be left out: the server fills it.
  field.required = !forUpdate && f.required === true && f.default === undefined;
  let expects = SCALARS[f.type]?.expects ?? `A ${f.type} value.`;
  if (f.type === 'array') {
    field.type = SCALARS[f.items ?? 'string']?.type ?? 'string';
    field.list = true;
    expects = `A list of ${f.items ?? 'string'} values.`;
  } else if (f.type === 'enum') {
    field.choices = (f.values ?? []).map((v) => ({ value: v, label: v, sample: v }));
    expects = `One of: ${(f.values ?? []).join(', ')}.`;
  } else if (f.type === 'relation') {
    expects = `The id of a ${f.target ?? 'related'} record.`;
  } else {
    field.type = SCALARS[f.type]?.type ?? 'string';
  }
  const defaults = f.default === undefined ? '' : ` Default: ${JSON.stringify(f.default)}.`;
  field.helpText = `${f.description ? `${f.description} ` : ''}${expects}${defaults}`.slice(0, 1000);
  return field;
}

/**
 * The input fields of a model's record: one per field of its definition.
 * @param {ZObject} z
 * @param {Bundle} bundle
 * @param {{ forUpdate: boolean }} mode
 * @returns {Promise<InputField[]>}
 */
async function recordInputFields(z, bundle, mode) {
  if (!bundle.inputData.model) return [];
  const model = await getModel(z, bundle, bundle.inputData.model);
  return model.fields.map((f) => inputFieldOf(f, mode));
}

/** @param {unknown} v */
function toBoolean(v) {
  if (typeof v === 'boolean') return v;
  const s = String(v).trim().toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(s)) return true;
  if (['false', 'no', '0', 'off'].includes(s)) return false;
  return v; // the server says what is wrong with it
}

/** @param {unknown} v */
function toNumber(v) {
  if (typeof v !== 'string' || v.trim() === '') return v;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
}

/**
 * One value as the field's (or action parameter's) type wants it. Zapier hands most values over as text.
 * @param {ZObject} z
 * @param {ModelField} f
 * @param {unknown} v
 * @returns {unknown}
 */
function coerce(z, f, v) {
  switch (f.type) {
    case 'integer':
    case 'number':
      return toNumber(v);
    case 'boolean':
      return toBoolean(v);
    case 'json':
      if (typeof v !== 'string') return v;
      try {
        return JSON.parse(v);
      } catch {
        throw new z.errors.HaltedError(`ZAPIER_INVALID_JSON: "${f.label ?? f.name}" is not valid JSON.`);
      }
    case 'array': {
      const list = Array.isArray(v)
        ? v
        : String(v)
            .split(',')
            .map((s) => s.trim());
      const item = { ...f, type: f.items ?? 'string' };
      return list.filter((x) => x !== '' && x !== null && x !== undefined).map((x) => coerce(z, item, x));
    }
    default:
      return v;
  }
}

/**
 * The record values a step's input carries: the mapped fields of the model, typed; empty inputs are
 * left out (the server keeps the value on update, applies the default on create).
 * @param {ZObject} z
 * @param {Model} model
 * @param {Record<string, unknown>} inputData
 */
function valuesOf(z, model, inputData) {
  /** @type {Record<string, unknown>} */
  const values = {};
  for (const f of model.fields) {
    const v = inputData[FIELD_PREFIX + f.name];
    if (v === undefined || v === null || v === '') continue;
    values[f.name] = coerce(z, f, v);
  }
  return values;
}

/**
 * The fields of a model as output fields (labels for the Zap editor), with the record's own.
 * @param {ZObject} z
 * @param {Bundle} bundle
 */
async function recordOutputFields(z, bundle) {
  if (!bundle.inputData.model) return [];
  const model = await getModel(z, bundle, bundle.inputData.model);
  return [
    { key: 'id', label: 'Record ID' },
    { key: 'createdAt', label: 'Created At', type: /** @type {const} */ ('datetime') },
    { key: 'updatedAt', label: 'Updated At', type: /** @type {const} */ ('datetime') },
    ...model.fields.map((f) => ({ key: f.name, label: f.label ?? f.name })),
  ];
}

/** The model picker every record step starts with: a dropdown fed by the hidden `model` trigger. */
const modelField = {
  key: 'model',
  label: 'Model',
  required: true,
  dynamic: 'model.id.label',
  altersDynamicFields: true,
  helpText: 'The Infinity model (table) of the records.',
};

module.exports = { coerce, getModel, modelField, recordInputFields, recordOutputFields, valuesOf };
