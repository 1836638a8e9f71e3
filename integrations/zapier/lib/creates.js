// @ts-check
'use strict';

const { callApi, seg } = require('./api');
const { coerce, getModel, modelField, recordInputFields, recordOutputFields, valuesOf } = require('./fields');

/**
 * @typedef {import('zapier-platform-core').ZObject} ZObject
 * @typedef {import('zapier-platform-core').Bundle} Bundle
 * @typedef {import('zapier-platform-core').PlainInputField} InputField
 * @typedef {{ name: string, type: 'string' | 'integer' | 'number' | 'boolean' | 'json', required?: boolean, description?: string, default?: unknown, value?: unknown }} ActionParam
 */

const RECORD_SAMPLE = {
  id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  createdAt: '2026-05-04T10:11:12.123456Z',
  updatedAt: '2026-05-04T10:11:12.123456Z',
  email: 'ada@example.com',
};

const createRecord = {
  key: 'create_record',
  noun: 'Record',
  display: { label: 'Create Record', description: 'Creates a record in a model; its fields come from the model definition.' },
  operation: {
    inputFields: [modelField, /** @param {ZObject} z @param {Bundle} bundle */ (z, bundle) => recordInputFields(z, bundle, { forUpdate: false })],
    /** @param {ZObject} z @param {Bundle} bundle */
    perform: async (z, bundle) => {
      const model = await getModel(z, bundle, bundle.inputData.model);
      return callApi(z, bundle, { method: 'POST', path: `/data/${seg(model.name)}`, body: valuesOf(z, model, bundle.inputData) });
    },
    outputFields: [recordOutputFields],
    sample: RECORD_SAMPLE,
  },
};

const updateRecord = {
  key: 'update_record',
  noun: 'Record',
  display: { label: 'Update Record', description: 'Changes the fields you map of a record; the others keep their values.' },
  operation: {
    inputFields: [
      modelField,
      { key: 'id', label: 'Record ID', required: true, helpText: 'The id of the record to change (from a trigger or a Find Record step).' },
      /** @param {ZObject} z @param {Bundle} bundle */ (z, bundle) => recordInputFields(z, bundle, { forUpdate: true }),
    ],
    /** @param {ZObject} z @param {Bundle} bundle */
    perform: async (z, bundle) => {
      const model = await getModel(z, bundle, bundle.inputData.model);
      return callApi(z, bundle, { method: 'PATCH', path: `/data/${seg(model.name)}/${seg(bundle.inputData.id)}`, body: valuesOf(z, model, bundle.inputData) });
    },
    outputFields: [recordOutputFields],
    sample: RECORD_SAMPLE,
  },
};

/** Input keys of an action's parameters carry this prefix (an action may name a parameter `action`). */
const PARAM_PREFIX = 'param__';

/** @type {Record<ActionParam['type'], 'string' | 'integer' | 'number' | 'boolean' | 'text'>} */
const PARAM_TYPES = { string: 'string', integer: 'integer', number: 'number', boolean: 'boolean', json: 'text' };

/**
 * The action's parameters as input fields, from its definition; parameters fixed at definition
 * (`value`) are not asked for.
 * @param {ZObject} z
 * @param {Bundle} bundle
 * @returns {Promise<InputField[]>}
 */
async function actionParamFields(z, bundle) {
  if (!bundle.inputData.action) return [];
  const action = await callApi(z, bundle, { path: `/actions/${seg(bundle.inputData.action)}` });
  return /** @type {ActionParam[]} */ (action.params)
    .filter((p) => p.value === undefined)
    .map((p) => ({
      key: PARAM_PREFIX + p.name,
      label: p.name,
      type: PARAM_TYPES[p.type] ?? 'string',
      required: p.required === true && p.default === undefined,
      helpText: `${p.description ? `${p.description} ` : ''}(${p.type}${p.default === undefined ? '' : `, default ${JSON.stringify(p.default)}`})`,
    }));
}

/**
 * The parameters a run sends: the mapped ones, typed as the action declares them.
 * @param {ZObject} z
 * @param {ActionParam[]} params
 * @param {Record<string, unknown>} inputData
 */
function paramsOf(z, params, inputData) {
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const p of params) {
    const v = inputData[PARAM_PREFIX + p.name];
    if (p.value !== undefined || v === undefined || v === null || v === '') continue;
    out[p.name] = coerce(z, { name: p.name, type: p.type }, v);
  }
  return out;
}

const runAction = {
  key: 'run_action',
  noun: 'Action Run',
  display: { label: 'Run Action', description: 'Runs an Infinity action (its steps in one transaction) with the parameters you map.' },
  operation: {
    inputFields: [
      { key: 'action', label: 'Action', required: true, dynamic: 'action.id.name', altersDynamicFields: true, helpText: 'The action to run.' },
      actionParamFields,
    ],
    /** @param {ZObject} z @param {Bundle} bundle */
    perform: async (z, bundle) => {
      const action = await callApi(z, bundle, { path: `/actions/${seg(bundle.inputData.action)}` });
      return callApi(z, bundle, {
        method: 'POST',
        path: `/actions/${seg(action.id)}/run`,
        body: { params: paramsOf(z, action.params, bundle.inputData) },
      });
    },
    sample: {
      id: '0193a1b2-0000-7000-8000-000000000001',
      actionId: '0193a1b2-0000-7000-8000-000000000002',
      status: 'succeeded',
      output: { steps: {} },
      durationMs: 12,
    },
  },
};

const runFlow = {
  key: 'run_flow',
  noun: 'Flow Run',
  display: { label: 'Run Flow', description: 'Runs an Infinity flow with an input, waits for it to finish and returns its output.' },
  operation: {
    inputFields: [
      { key: 'flow', label: 'Flow', required: true, dynamic: 'flow.id.name', helpText: 'The flow to run (as its manual trigger would).' },
      { key: 'input', label: 'Input', dict: true, helpText: 'The flow input as keys and values (`$input` in the flow).' },
      {
        key: 'inputJson',
        label: 'Input (JSON)',
        type: /** @type {const} */ ('text'),
        helpText: 'Or the whole input as JSON; it wins over the keys and values above.',
      },
    ],
    /** @param {ZObject} z @param {Bundle} bundle */
    perform: async (z, bundle) => {
      const { flow, input, inputJson } = bundle.inputData;
      /** @type {unknown} */
      let body = input ?? {};
      if (typeof inputJson === 'string' && inputJson.trim() !== '') {
        try {
          body = JSON.parse(inputJson);
        } catch {
          throw new z.errors.HaltedError('ZAPIER_INVALID_JSON: Input (JSON) is not valid JSON.');
        }
      }
      const execution = await callApi(z, bundle, { method: 'POST', path: `/flows/${seg(flow)}/run`, params: { wait: 'true' }, body: { input: body } });
      if (execution.status === 'failed') {
        const error = /** @type {{ code?: string, message?: string } | null} */ (execution.error);
        throw new z.errors.Error(
          `The flow run ${String(execution.id)} failed: ${error?.message ?? 'no message'}`,
          error?.code ? `EXECUTION_FAILED_${error.code}` : 'EXECUTION_FAILED',
          422,
        );
      }
      return {
        id: execution.id,
        executionId: execution.id,
        flowId: execution.flowId,
        status: execution.status,
        output: execution.output,
        durationMs: execution.durationMs,
      };
    },
    sample: {
      id: '0193a1b2-0000-7000-8000-000000000003',
      executionId: '0193a1b2-0000-7000-8000-000000000003',
      flowId: '0193a1b2-0000-7000-8000-000000000004',
      status: 'succeeded',
      output: { greeting: 'Hello Ada' },
      durationMs: 40,
    },
  },
};

module.exports = { create_record: createRecord, update_record: updateRecord, run_action: runAction, run_flow: runFlow };
