/**
 * Make's request directives, run for real over HTTP: the base (baseUrl, headers, error handling,
 * log sanitizing) merged under a module's or RPC's request, `temp`, `condition`, `url`/`method`/
 * `headers`/`qs`/`body`, then the response: `valid`, `error` (by status), `iterate` (with its
 * `condition`), `output`, `limit`, `data`, `metadata`, and `pagination` (its `qs` merged into the
 * request, evaluated on the previous page, until its `condition` is false, a page is empty or
 * the limit is reached). A directive this file does not implement is an error.
 */
import { type App, type At, type Code, type Coverage, child, evalDeep, isRecord, onlyKeys } from './app.js';
import type { Scope } from './iml.js';

/** An error as Make would show it on the module: its type and message. */
export class MakeError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** One HTTP request the app made, for the OpenAPI check. */
export interface HttpCall {
  code: string;
  method: string;
  url: URL;
  status: number;
}

export interface Runtime {
  app: App;
  cov: Coverage;
  calls: HttpCall[];
}

export interface Result {
  /** false when the request's `condition` said not to send it. */
  sent: boolean;
  outputs: unknown[];
  data?: Record<string, unknown>;
  metadata?: unknown;
}

const REQUEST_KEYS = ['url', 'method', 'headers', 'qs', 'body', 'temp', 'condition', 'pagination', 'response', 'log'];
const RESPONSE_KEYS = ['valid', 'error', 'iterate', 'output', 'limit', 'data', 'metadata'];

function record(v: unknown, where: string): Record<string, unknown> {
  if (!isRecord(v)) throw new Error(`${where} must be an object`);
  return v;
}

/** `{message, type}` (or per status `{"404": {…}}`), evaluated on the response. */
function errorOf(spec: unknown, at: At, scope: Scope, cov: Coverage): MakeError {
  const status = String(scope.statusCode);
  const s = record(spec, `${at.file}: response.error`);
  onlyKeys(s, ['message', 'type', ...Object.keys(s).filter((k) => /^\d{3}$/.test(k))], `${at.file}: response.error`);
  const [chosen, where] = isRecord(s[status]) ? [s[status], child(at, status)] : [s, at];
  const e = record(evalDeep(chosen, scope, where, cov), 'error');
  return new MakeError(typeof e.type === 'string' ? e.type : 'RuntimeError', String(e.message));
}

/** Query values as Make sends them: undefined and null are left out, the rest as text. */
function queryOf(qs: Record<string, unknown>): [string, string][] {
  return Object.entries(qs)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => {
      if (typeof v === 'object') throw new Error(`query parameter ${k} must be flat, got ${JSON.stringify(v)}`);
      return [k, String(v as string | number | boolean)];
    });
}

/**
 * Runs one communication (a module's, an RPC's, a webhook's attach/detach/update, or the
 * connection's with `base: false`). `scope` holds the context's variables (`connection`,
 * `parameters`, `webhook` …); the response adds `body`, `headers`, `statusCode`, and `item` inside iterate.
 */
export async function communicate(rt: Runtime, code: Code, scope: Scope, opts: { base: boolean }): Promise<Result> {
  const spec = record(code.json, code.file);
  if (Object.keys(spec).length === 0) return { sent: false, outputs: [] }; // an instant trigger may make no request
  onlyKeys(spec, REQUEST_KEYS, code.file);
  const at: At = { file: code.file, ptr: '' };
  // The base's parts are marked as evaluated in the base's own file.
  const base = opts.base ? { spec: record(rt.app.base.json, rt.app.base.file), at: { file: rt.app.base.file, ptr: '' } } : undefined;
  if (base) onlyKeys(base.spec, ['baseUrl', 'headers', 'response', 'log'], base.at.file);

  const reqScope: Scope = { ...scope, temp: {} };
  if (spec.temp !== undefined) reqScope.temp = evalDeep(record(spec.temp, 'temp'), reqScope, child(at, 'temp'), rt.cov);
  if (spec.condition !== undefined && !evalDeep(spec.condition, reqScope, child(at, 'condition'), rt.cov)) return { sent: false, outputs: [] };

  const response = isRecord(spec.response) ? spec.response : {};
  onlyKeys(response, RESPONSE_KEYS, `${code.file}: response`);
  const baseResponse = base && isRecord(base.spec.response) ? base.spec.response : {};
  onlyKeys(baseResponse, ['error'], `${rt.app.base.file}: response`);
  const errorSpec =
    response.error !== undefined
      ? { spec: response.error, at: child(child(at, 'response'), 'error') }
      : base && baseResponse.error !== undefined
        ? { spec: baseResponse.error, at: child(child(base.at, 'response'), 'error') }
        : undefined;

  // The request's parts, evaluated once (pagination merges its own over them).
  const baseUrl = base ? String(evalDeep(base.spec.baseUrl, reqScope, child(base.at, 'baseUrl'), rt.cov)) : '';
  const rawUrl = String(evalDeep(spec.url, reqScope, child(at, 'url'), rt.cov));
  const url = rawUrl.startsWith('/') ? `${baseUrl}${rawUrl}` : rawUrl;
  if (!/^https?:\/\//.test(url)) throw new Error(`${code.file}: url "${rawUrl}" is neither absolute nor joined to the base`);
  const method = spec.method === undefined ? 'GET' : String(evalDeep(spec.method, reqScope, child(at, 'method'), rt.cov));
  const headers = {
    ...(base?.spec.headers ? record(evalDeep(base.spec.headers, reqScope, child(base.at, 'headers'), rt.cov), 'headers') : {}),
    ...(spec.headers ? record(evalDeep(spec.headers, reqScope, child(at, 'headers'), rt.cov), 'headers') : {}),
  };
  checkSanitized(headers, [base?.spec.log, spec.log], scope, code.file);
  const qs = spec.qs ? record(evalDeep(spec.qs, reqScope, child(at, 'qs'), rt.cov), 'qs') : {};
  const body = spec.body === undefined ? undefined : evalDeep(spec.body, reqScope, child(at, 'body'), rt.cov);

  const pagination = spec.pagination === undefined ? undefined : record(spec.pagination, 'pagination');
  if (pagination) onlyKeys(pagination, ['qs', 'condition'], `${code.file}: pagination`);

  const outputs: unknown[] = [];
  let limit: number | undefined;
  let pageQs = qs;
  let lastScope: Scope = reqScope;
  for (let page = 1; ; page++) {
    if (page > 1000) throw new Error(`${code.file}: more than 1000 pages`);
    const u = new URL(url);
    for (const [k, v] of queryOf(pageQs)) u.searchParams.append(k, v);
    const init: RequestInit = { method, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v as string)])) };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const res = await fetch(u, init);
    rt.calls.push({ code: code.file, method, url: u, status: res.status });
    const text = await res.text();
    const resBody: unknown = text === '' ? undefined : (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
    const resScope: Scope = { ...reqScope, body: resBody, headers: Object.fromEntries(res.headers.entries()), statusCode: res.status };
    lastScope = resScope;

    if (res.status >= 400) {
      if (!errorSpec) throw new MakeError('RuntimeError', `[${res.status}] ${text}`);
      throw errorOf(errorSpec.spec, errorSpec.at, resScope, rt.cov);
    }
    if (response.valid !== undefined) {
      const v = record(response.valid, 'valid');
      onlyKeys(v, ['condition', 'message', 'type'], `${code.file}: response.valid`);
      const verdict = record(evalDeep(v, resScope, child(child(at, 'response'), 'valid'), rt.cov), 'valid');
      if (!verdict.condition) throw new MakeError(String(verdict.type ?? 'RuntimeError'), String(verdict.message));
    }
    if (page === 1 && response.limit !== undefined) limit = Number(evalDeep(response.limit, resScope, child(child(at, 'response'), 'limit'), rt.cov));

    const before = outputs.length;
    outputs.push(...outputsOf(rt, response, child(at, 'response'), resScope));
    const pageItems = outputs.length - before;
    if (limit !== undefined && outputs.length >= limit) {
      outputs.length = limit;
      break;
    }
    if (!pagination || (response.iterate !== undefined && pageItems === 0)) break;
    const pAt = child(at, 'pagination');
    if (pagination.condition !== undefined && !evalDeep(pagination.condition, resScope, child(pAt, 'condition'), rt.cov)) break;
    if (pagination.qs === undefined) throw new Error(`${code.file}: pagination without qs would fetch the same page again`);
    // mergeWithParent (Make's default): the page's query over the request's own.
    pageQs = { ...qs, ...record(evalDeep(pagination.qs, resScope, child(pAt, 'qs'), rt.cov), 'pagination.qs') };
  }

  const rAt = child(at, 'response');
  const result: Result = { sent: true, outputs };
  if (response.data !== undefined) result.data = record(evalDeep(response.data, lastScope, child(rAt, 'data'), rt.cov), 'data');
  if (response.metadata !== undefined) result.metadata = evalDeep(response.metadata, lastScope, child(rAt, 'metadata'), rt.cov);
  return result;
}

/** Outputs of one response: one per iterated item (filtered by the iterate condition), else one. */
function outputsOf(rt: Runtime, response: Record<string, unknown>, at: At, scope: Scope): unknown[] {
  const outputAt = child(at, 'output');
  const out = (s: Scope) => (response.output === undefined ? (s.item ?? s.body) : evalDeep(response.output, s, outputAt, rt.cov));
  if (response.iterate === undefined) return [out(scope)];
  const it = response.iterate;
  const spec = typeof it === 'string' ? { container: it } : record(it, 'iterate');
  onlyKeys(spec, ['container', 'condition'], `${at.file}: iterate`);
  const itAt = child(at, 'iterate');
  const container = evalDeep(spec.container, scope, typeof it === 'string' ? itAt : child(itAt, 'container'), rt.cov);
  if (!Array.isArray(container)) throw new Error(`${at.file}: iterate container is not an array: ${JSON.stringify(container)}`);
  return container
    .filter((item) => spec.condition === undefined || evalDeep(spec.condition, { ...scope, item }, child(itAt, 'condition'), rt.cov))
    .map((item) => out({ ...scope, item }));
}

/**
 * NB: a header carrying the API key must be listed in `log.sanitize` (Make writes requests to the
 * scenario's log); the test fails when one is not.
 */
function checkSanitized(headers: Record<string, unknown>, logs: unknown[], scope: Scope, file: string): void {
  const sanitize = new Set<string>();
  for (const log of logs) {
    if (log === undefined) continue;
    const l = record(log, 'log');
    onlyKeys(l, ['sanitize'], `${file}: log`);
    for (const p of Array.isArray(l.sanitize) ? l.sanitize : []) sanitize.add(String(p));
  }
  const secrets = [scope.connection, scope.parameters]
    .filter(isRecord)
    .map((c) => c.apiKey)
    .filter((k): k is string => typeof k === 'string' && k !== '');
  for (const [name, value] of Object.entries(headers))
    if (secrets.some((s) => String(value).includes(s)) && !sanitize.has(`request.headers.${name.toLowerCase()}`))
      throw new Error(`${file}: header ${name} carries the API key but log.sanitize does not hide it`);
}
