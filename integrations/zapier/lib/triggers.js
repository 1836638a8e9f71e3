// @ts-check
'use strict';

const { callApi, pageOf, seg } = require('./api');
const { modelField, recordOutputFields } = require('./fields');
const { signatureProblem } = require('./signature');

/**
 * @typedef {import('zapier-platform-core').ZObject} ZObject
 * @typedef {import('zapier-platform-core').Bundle} Bundle
 * @typedef {{ id: string, createdAt: string, updatedAt: string, [field: string]: unknown }} InfinityRecord
 * @typedef {{ id: string, type: string, timestamp: string, data: { model?: string, record?: InfinityRecord, changed?: string[] } }} Delivery
 */

/**
 * A hidden polling trigger that feeds a dynamic dropdown (Zapier's convention: `dynamic:
 * '<trigger>.<id>.<label>'`), one page per call.
 * @param {{ key: string, noun: string, path: string, map: (row: any) => { id: string, [k: string]: unknown } }} spec
 */
function dropdownTrigger({ key, noun, path, map }) {
  return {
    key,
    noun,
    display: { label: `List ${noun}s`, description: `Lists the ${noun.toLowerCase()}s of the organization for dropdowns.`, hidden: true },
    operation: {
      type: /** @type {const} */ ('polling'),
      canPaginate: true,
      /** @param {ZObject} z @param {Bundle} bundle */
      perform: async (z, bundle) => /** @type {unknown[]} */ (await callApi(z, bundle, { path, params: pageOf(bundle) })).map(map),
    },
  };
}

const modelTrigger = dropdownTrigger({
  key: 'model',
  noun: 'Model',
  path: '/models',
  // The dropdown's value is the model's name: the records routes take it.
  map: (m) => ({ id: m.name, label: m.label || m.name, modelId: m.id }),
});
const actionTrigger = dropdownTrigger({
  key: 'action',
  noun: 'Action',
  path: '/actions',
  map: (a) => ({ id: a.id, name: a.name, description: a.description }),
});
const flowTrigger = dropdownTrigger({ key: 'flow', noun: 'Flow', path: '/flows', map: (f) => ({ id: f.id, name: f.name }) });

/**
 * A record as a trigger's output. An update is a new event each time, so its `id` (what Zapier
 * deduplicates on) is the record's id with its `updatedAt`; `recordId` keeps the record's own.
 * @param {'record.created' | 'record.updated'} event
 * @param {InfinityRecord} record
 * @param {string[]} [changed]
 */
function outputOf(event, record, changed) {
  if (event === 'record.created') return { ...record };
  return { ...record, id: `${record.id}:${record.updatedAt}`, recordId: record.id, ...(changed ? { changedFields: changed } : {}) };
}

/**
 * The delivery a hook's perform got, after its signature is checked: Zapier keeps the subscription's
 * secret in `subscribeData` and, when it passes the raw request, the body as it was signed.
 * @param {ZObject} z
 * @param {Bundle} bundle
 * @returns {Delivery}
 */
function verifiedDelivery(z, bundle) {
  const secret = /** @type {{ secret?: string } | undefined} */ (bundle.subscribeData)?.secret;
  const raw = bundle.rawRequest;
  if (secret && raw && typeof raw.content === 'string') {
    const problem = signatureProblem({ secret, headers: raw.headers, body: raw.content });
    if (problem) throw new z.errors.Error(`Refused a delivery that Infinity did not sign: ${problem}.`, 'WEBHOOK_SIGNATURE_INVALID', 401);
    return JSON.parse(raw.content);
  }
  return /** @type {Delivery} */ (bundle.cleanedRequest);
}

/**
 * New Record / Updated Record: a REST hook on `/api/v1/webhooks` for one event on one model.
 * @param {{ key: string, event: 'record.created' | 'record.updated', label: string, description: string, sort: string, sample: Record<string, unknown> }} spec
 */
function recordHookTrigger({ key, event, label, description, sort, sample }) {
  return {
    key,
    noun: 'Record',
    display: { label, description },
    operation: {
      type: /** @type {const} */ ('hook'),
      inputFields: [modelField],
      /** @param {ZObject} z @param {Bundle} bundle */
      performSubscribe: async (z, bundle) =>
        callApi(z, bundle, {
          method: 'POST',
          path: '/webhooks',
          body: { url: bundle.targetUrl, events: [event], model: bundle.inputData.model, description: `Zapier: ${label} in ${String(bundle.inputData.model)}` },
        }),
      /** @param {ZObject} z @param {Bundle} bundle */
      performUnsubscribe: async (z, bundle) => {
        const id = /** @type {{ id?: string } | undefined} */ (bundle.subscribeData)?.id;
        if (!id) throw new z.errors.Error('This Zap holds no subscription to remove.', 'ZAPIER_NO_SUBSCRIPTION', 400);
        await callApi(z, bundle, { method: 'DELETE', path: `/webhooks/${seg(id)}` });
        return { id };
      },
      /** @param {ZObject} z @param {Bundle} bundle */
      perform: async (z, bundle) => {
        const delivery = verifiedDelivery(z, bundle);
        // A `webhook.test` ping, or an event of another kind or model, starts no Zap run.
        if (delivery?.type !== event || delivery.data?.model !== bundle.inputData.model || !delivery.data.record) return [];
        return [outputOf(event, delivery.data.record, delivery.data.changed)];
      },
      /** The polling fallback (samples while setting the Zap up): the newest records. @param {ZObject} z @param {Bundle} bundle */
      performList: async (z, bundle) => {
        const limit = Math.min(Math.max(Number(bundle.meta?.limit) > 0 ? Number(bundle.meta.limit) : 10, 1), 100);
        /** @type {InfinityRecord[]} */
        const rows = await callApi(z, bundle, { path: `/data/${seg(bundle.inputData.model)}`, params: { sort, limit } });
        return rows.map((r) => outputOf(event, r));
      },
      outputFields: [recordOutputFields],
      sample,
    },
  };
}

const SAMPLE_RECORD = {
  id: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  createdAt: '2026-05-04T10:11:12.123456Z',
  updatedAt: '2026-05-04T10:11:12.123456Z',
  name: 'Ada Lovelace',
  email: 'ada@example.com',
};

const newRecord = recordHookTrigger({
  key: 'new_record',
  event: 'record.created',
  label: 'New Record',
  description: 'Triggers instantly when a record is created in a model.',
  sort: '-createdAt',
  sample: SAMPLE_RECORD,
});
const updatedRecord = recordHookTrigger({
  key: 'updated_record',
  event: 'record.updated',
  label: 'Updated Record',
  description: 'Triggers instantly when a record of a model is changed.',
  sort: '-updatedAt',
  sample: { ...outputOf('record.updated', { ...SAMPLE_RECORD, updatedAt: '2026-05-05T08:00:00.000001Z' }), changedFields: ['email'] },
});

module.exports = { model: modelTrigger, action: actionTrigger, flow: flowTrigger, new_record: newRecord, updated_record: updatedRecord };
