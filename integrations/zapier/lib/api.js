// @ts-check
'use strict';

/**
 * @typedef {import('zapier-platform-core').ZObject} ZObject
 * @typedef {import('zapier-platform-core').Bundle} Bundle
 * @typedef {import('zapier-platform-core').HttpRequestOptions} HttpRequestOptions
 */

/**
 * The Infinity server the user connected (`https://infinity.example.com`), without a trailing slash
 * or the `/api/v1` people sometimes paste with it.
 */
const baseUrlOf = (/** @type {Bundle} */ bundle) =>
  String(bundle.authData.baseUrl ?? '')
    .trim()
    .replace(/\/+$/, '')
    .replace(/\/api\/v1$/, '');

/** The absolute URL of an API route (`path` starts with `/`, below `/api/v1`). */
const apiUrl = (/** @type {Bundle} */ bundle, /** @type {string} */ path) => `${baseUrlOf(bundle)}/api/v1${path}`;

/** A path segment from user input (a model name, an id): encoded, so it cannot add a segment or a query. */
const seg = (/** @type {unknown} */ value) => encodeURIComponent(String(value ?? ''));

/**
 * Calls Infinity and answers the `data` of its `{ data, meta }` envelope. Error statuses never get
 * here: the app's afterResponse middleware turns them into Zapier errors first.
 * @param {ZObject} z
 * @param {Bundle} bundle
 * @param {{ method?: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, params?: Record<string, unknown>, body?: unknown }} req
 * @returns {Promise<any>}
 */
async function callApi(z, bundle, req) {
  /** @type {HttpRequestOptions & { url: string }} */
  const options = { method: req.method ?? 'GET', url: apiUrl(bundle, req.path) };
  if (req.params) options.params = req.params;
  if (req.body !== undefined) options.body = /** @type {Record<string, unknown>} */ (req.body);
  const response = await z.request(options);
  const envelope = /** @type {{ data?: unknown } | undefined} */ (response.data);
  return envelope?.data;
}

/**
 * One page of a list the platform pages through (dynamic dropdowns, `canPaginate`): 100 rows per page.
 * @param {Bundle} bundle
 */
const pageOf = (bundle) => ({ limit: 100, offset: Math.max(0, Number(bundle.meta?.page ?? 0)) * 100 });

module.exports = { apiUrl, baseUrlOf, callApi, pageOf, seg };
