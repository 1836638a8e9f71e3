/**
 * The app's requests against Infinity's OpenAPI document of an organization (GET
 * /api/v1/openapi.json with the connection's key: the system routes plus one typed path per
 * model). Two checks:
 * - every request the definition can make (each url with its qs and its pagination's qs) names a
 *   method and path the document has, every `{{…}}` path segment a declared path parameter (or a
 *   model's own path), every query parameter a declared one;
 * - every request a run actually sent matches the document's most specific path (OpenAPI: a
 *   concrete path before a templated one) with that method, each query parameter declared there.
 */
import { type App, type Code, allCodes, isRecord } from './app.js';
import { hasIml } from './iml.js';
import type { HttpCall } from './request.js';

interface Parameter {
  name: string;
  in: string;
}
interface Operation {
  parameters?: Parameter[];
}
type PathItem = Record<string, Operation | Parameter[] | undefined> & { parameters?: Parameter[] };
export interface OpenApiDoc {
  servers?: { url: string }[];
  paths: Record<string, PathItem>;
}

/** The document's paths as full URL paths: a server URL with a path (`…/api/v1`) prefixes them. */
function fullPaths(doc: OpenApiDoc): [string, PathItem][] {
  const prefix = new URL(doc.servers?.[0]?.url ?? '/', 'http://server').pathname.replace(/\/$/, '');
  return Object.entries(doc.paths).map(([p, item]) => [`${prefix}${p}`, item]);
}

const segments = (p: string) => p.split('/').filter((s) => s !== '');
const isTemplated = (seg: string) => /^\{[^}]+\}$/.test(seg);

function declared(item: PathItem, op: Operation, where: 'query' | 'path'): string[] {
  return [...(item.parameters ?? []), ...(op.parameters ?? [])].filter((p) => p.in === where).map((p) => p.name);
}

/** A request as the definition writes it: method, path under /api/v1 (IML left in), query keys. */
export interface RequestTemplate {
  code: string;
  method: string;
  path: string;
  query: string[];
}

/** Every request a code can make: its url (joined to the base's /api/v1 when relative) and qs keys, pagination's included. */
export function requestTemplates(app: App): RequestTemplate[] {
  const out: RequestTemplate[] = [];
  const isRequest = (c: Code) => isRecord(c.json) && typeof c.json.url === 'string';
  for (const c of allCodes(app).filter(isRequest)) {
    const spec = c.json as Record<string, unknown>;
    const url = spec.url as string;
    // Relative: joined to the base ({{connection.baseUrl}}/api/v1); the connection's own is absolute.
    const path = url.startsWith('/') ? `/api/v1${url}` : url.replace(/^\{\{[^}]+\}\}/, '');
    if (!path.startsWith('/api/v1/')) throw new Error(`${c.file}: url ${url} is not under the API`);
    const pagination = isRecord(spec.pagination) ? spec.pagination : {};
    const query = [...Object.keys(isRecord(spec.qs) ? spec.qs : {}), ...Object.keys(isRecord(pagination.qs) ? pagination.qs : {})];
    out.push({ code: c.file, method: String(spec.method ?? 'GET').toLowerCase(), path, query });
  }
  return out;
}

/** Problems of the definition's requests against the document (empty when all is well). */
export function checkTemplates(doc: OpenApiDoc, templates: RequestTemplate[]): string[] {
  const problems: string[] = [];
  for (const t of templates) {
    const segs = segments(t.path);
    // An IML segment may stand for a path parameter or for a model's own (concrete) path.
    const candidates = fullPaths(doc).filter(([p, item]) => {
      const ps = segments(p);
      return ps.length === segs.length && isRecord(item[t.method]) && ps.every((s, i) => s === segs[i] || hasIml(segs[i]!));
    });
    if (candidates.length === 0) {
      problems.push(`${t.code}: ${t.method.toUpperCase()} ${t.path} is not in the document`);
      continue;
    }
    const fits = candidates.filter(([p, item]) => {
      const op = item[t.method] as Operation;
      const ps = segments(p);
      const pathParamsOk = ps.every((s, i) => !isTemplated(s) || (hasIml(segs[i]!) && declared(item, op, 'path').includes(s.slice(1, -1))));
      return pathParamsOk && t.query.every((q) => declared(item, op, 'query').includes(q));
    });
    if (fits.length === 0)
      problems.push(
        `${t.code}: ${t.method.toUpperCase()} ${t.path} with query ${t.query.join(', ') || '(none)'}: no path of the document declares those parameters (${candidates.map(([p]) => p).join(', ')})`,
      );
  }
  return problems;
}

/** Problems of the requests a run sent (empty when all is well). */
export function checkCalls(doc: OpenApiDoc, calls: HttpCall[]): string[] {
  const problems: string[] = [];
  for (const c of calls) {
    const segs = segments(c.url.pathname).map(decodeURIComponent);
    const method = c.method.toLowerCase();
    const matching = fullPaths(doc)
      .filter(([p]) => {
        const ps = segments(p);
        return ps.length === segs.length && ps.every((s, i) => s === segs[i] || isTemplated(s));
      })
      .map(([p, item]) => ({ p, item, literal: segments(p).filter((s) => !isTemplated(s)).length }))
      .sort((a, b) => b.literal - a.literal);
    const best = matching[0];
    const op = best && isRecord(best.item[method]) ? (best.item[method] as Operation) : undefined;
    if (!best || !op) {
      problems.push(`${c.code}: ${c.method} ${c.url.pathname} matches no operation (most specific path: ${best?.p ?? 'none'})`);
      continue;
    }
    const undeclared = [...new Set(c.url.searchParams.keys())].filter((k) => !declared(best.item, op, 'query').includes(k));
    if (undeclared.length > 0) problems.push(`${c.code}: ${c.method} ${best.p} does not declare query parameter(s) ${undeclared.join(', ')}`);
    const missingPathParams = segments(best.p)
      .filter(isTemplated)
      .map((s) => s.slice(1, -1))
      .filter((n) => !declared(best.item, op, 'path').includes(n));
    if (missingPathParams.length > 0) problems.push(`${c.code}: ${c.method} ${best.p} does not declare path parameter(s) ${missingPathParams.join(', ')}`);
  }
  return problems;
}
