// @ts-check
'use strict';

const { callApi, seg } = require('./api');
const { getModel, modelField, recordOutputFields } = require('./fields');

/**
 * @typedef {import('zapier-platform-core').ZObject} ZObject
 * @typedef {import('zapier-platform-core').Bundle} Bundle
 */

/**
 * The field to search by: a dropdown of the model's fields (and its id), from its definition.
 * @param {ZObject} z
 * @param {Bundle} bundle
 */
async function fieldChoice(z, bundle) {
  if (!bundle.inputData.model) return [];
  const model = await getModel(z, bundle, bundle.inputData.model);
  const choices = [
    { value: 'id', label: 'Record ID', sample: 'id' },
    ...model.fields.filter((f) => f.type !== 'json' && f.type !== 'array').map((f) => ({ value: f.name, label: f.label ?? f.name, sample: f.name })),
  ];
  return [{ key: 'field', label: 'Field', required: true, choices, helpText: 'The field whose value must equal the one below.' }];
}

const findRecord = {
  key: 'find_record',
  noun: 'Record',
  display: { label: 'Find Record', description: 'Finds records of a model whose field equals a value, newest first.' },
  operation: {
    inputFields: [
      modelField,
      fieldChoice,
      { key: 'value', label: 'Value', required: true, helpText: 'The value to look for (compared exactly; booleans as true or false).' },
    ],
    /** @param {ZObject} z @param {Bundle} bundle */
    perform: async (z, bundle) => {
      const { model, field, value } = bundle.inputData;
      // filter[<field>][eq]=<value>: the server checks the field exists and types the value.
      return callApi(z, bundle, {
        path: `/data/${seg(model)}`,
        params: { [`filter[${String(field)}][eq]`]: value, sort: '-createdAt', limit: 10 },
      });
    },
    outputFields: [recordOutputFields],
    sample: {
      id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      createdAt: '2026-05-04T10:11:12.123456Z',
      updatedAt: '2026-05-04T10:11:12.123456Z',
      email: 'ada@example.com',
    },
  },
};

module.exports = { find_record: findRecord };
