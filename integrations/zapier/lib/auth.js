// @ts-check
'use strict';

const { baseUrlOf, callApi } = require('./api');

/**
 * @typedef {import('zapier-platform-core').ZObject} ZObject
 * @typedef {import('zapier-platform-core').Bundle} Bundle
 * @typedef {import('zapier-platform-core').HttpRequestOptions & { url: string }} Request
 * @typedef {import('zapier-platform-core').HttpResponse} Response
 */

/**
 * Infinity's errors whose cause is the data a Zap run carried (a record gone, a value its field
 * refuses): the run halts (shown in the Zap's history, no error email, never counted toward turning the
 * Zap off), since replaying the same data fails the same way. Everything else is an error.
 */
const HALTING = new Set(['RECORD_NOT_FOUND', 'RECORD_INVALID', 'RECORD_UNIQUE_VIOLATION', 'RECORD_RELATION_INVALID']);

/**
 * `GET /api/v1/me`: who the key is. The connection needs an organization (a key always has one).
 * @param {ZObject} z
 * @param {Bundle} bundle
 */
async function test(z, bundle) {
  const me = await callApi(z, bundle, { path: '/me' });
  if (!me || typeof me !== 'object' || !('kind' in me)) {
    throw new z.errors.Error('This address does not answer as an Infinity server: check the Infinity URL.', 'ZAPIER_NOT_INFINITY', 400);
  }
  if (!me.organization)
    throw new z.errors.Error('This credential belongs to no organization: use an API key of the organization.', 'AUTH_NO_ORGANIZATION', 403);
  return me;
}

/**
 * The name Zapier shows for the connection: the organization and the key (`Acme (zapier key)`).
 * @param {ZObject} _z
 * @param {Bundle} bundle  `inputData` is what `test` answered
 */
function connectionLabel(_z, bundle) {
  const me = /** @type {{ organization?: { name?: string }, apiKey?: { name?: string } | null, user?: { email?: string } | null }} */ (bundle.inputData);
  const who = me.apiKey?.name ?? me.user?.email;
  return who ? `${me.organization?.name ?? 'Infinity'} (${who})` : (me.organization?.name ?? 'Infinity');
}

const authentication = {
  type: /** @type {const} */ ('custom'),
  fields: [
    {
      key: 'baseUrl',
      label: 'Infinity URL',
      type: /** @type {const} */ ('string'),
      required: true,
      helpText: 'The address of your Infinity server, such as `https://infinity.example.com` (without `/api/v1`).',
    },
    {
      key: 'apiKey',
      label: 'API Key',
      type: /** @type {const} */ ('password'),
      required: true,
      helpText:
        'An Infinity API key (`inf_…`) from **API keys** (in the sidebar). A service-account key keeps working when people leave; its role (viewer, editor, admin) bounds what your Zaps may do, and triggers need admin (webhooks).',
    },
  ],
  test,
  connectionLabel,
};

/**
 * Sends the API key, and only to the connected Infinity server (never to another host a request
 * might name).
 * @param {Request} request
 * @param {ZObject} _z
 * @param {Bundle} bundle
 * @returns {Request}
 */
function addApiKey(request, _z, bundle) {
  const base = baseUrlOf(bundle);
  /** @type {Record<string, string>} */
  const headers = { ...request.headers, Accept: 'application/json' };
  if (base && bundle.authData.apiKey && request.url.startsWith(`${base}/`)) headers['X-API-Key'] = bundle.authData.apiKey;
  return { ...request, headers };
}

/**
 * Infinity's `{ error: { code, message, details } }` as the reason a request failed. A body in
 * another shape (a proxy's error page) becomes `HTTP_<status>`.
 * @param {Response} response
 * @returns {{ code: string, message: string }}
 */
function infinityError(response) {
  const body = /** @type {{ error?: { code?: unknown, message?: unknown, details?: unknown } } | undefined} */ (response.data);
  const error = body && typeof body === 'object' ? body.error : undefined;
  if (!error || typeof error.code !== 'string') {
    return { code: `HTTP_${response.status}`, message: `Infinity answered HTTP ${response.status} without an error body.` };
  }
  let message = typeof error.message === 'string' ? error.message : error.code;
  // Field problems ({ field, message }) say which mapped field to fix.
  if (Array.isArray(error.details)) {
    const problems = error.details
      .filter((d) => d && typeof d === 'object' && typeof d.message === 'string')
      .slice(0, 10)
      .map((d) => (typeof d.field === 'string' && d.field ? `${d.field}: ${d.message}` : String(d.message)));
    if (problems.length) message = `${message} (${problems.join('; ')})`;
  }
  return { code: error.code, message };
}

/**
 * Turns an Infinity error answer into a Zapier error carrying Infinity's code and message. No
 * RefreshAuthError ever (an API key does not refresh); 429 arrives as the platform's ThrottledError.
 * @param {Response} response
 * @param {ZObject} z
 * @returns {Response}
 */
function raiseInfinityErrors(response, z) {
  if (response.status < 400) return response;
  const { code, message } = infinityError(response);
  if (HALTING.has(code)) throw new z.errors.HaltedError(`${code}: ${message}`);
  throw new z.errors.Error(message, code, response.status);
}

module.exports = { authentication, addApiKey, raiseInfinityErrors };
