import { NodeError, defineNode, ref } from '@infinity/node-sdk';
import { z } from 'zod';

/**
 * HTTP request through the server's SSRF guard (ctx.http). Credentials come from a vault secret,
 * decrypted for this call only; they never reach the execution record (headers are not stored).
 */
export const httpNode = defineNode({
  type: 'core.http',
  version: 1,
  title: 'HTTP request',
  description:
    'Calls a URL (JSON, form or raw body; auth from a vault secret). Emits {status, headers, body} on "main", or on "error" for non-2xx answers when failOnStatus is on.',
  category: 'http',
  params: z.strictObject({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']).default('GET'),
    url: z.string().min(1).max(8000),
    headers: z.record(z.string().max(200), z.string().max(8000)).default({}),
    query: z.record(z.string().max(200), z.union([z.string(), z.number(), z.boolean()])).default({}),
    body: z.unknown().optional(),
    bodyType: z.enum(['json', 'form', 'raw']).default('json'),
    secretId: ref('secret', z.uuid()).optional().describe('vault secret used for auth'),
    authType: z.enum(['bearer', 'header', 'basic', 'query']).default('bearer').describe('how the secret is sent'),
    authName: z.string().max(200).optional().describe('header or query parameter name for authType header/query'),
    timeoutMs: z.number().int().min(1).max(300_000).default(30_000),
    response: z.enum(['auto', 'json', 'text']).default('auto'),
    failOnStatus: z.boolean().default(true).describe('treat 4xx/5xx answers as failures (5xx and 429 are retried per the node settings)'),
  }),
  outputs: ['main'],
  execute: async ({ params, ctx }) => {
    const url = new URL(params.url);
    for (const [k, v] of Object.entries(params.query)) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { 'idempotency-key': ctx.idempotencyKey, ...params.headers };
    let body: string | undefined;
    if (params.body !== undefined && params.method !== 'GET' && params.method !== 'HEAD') {
      if (params.bodyType === 'json') {
        body = JSON.stringify(params.body);
        headers['content-type'] ??= 'application/json';
      } else if (params.bodyType === 'form') {
        const obj = params.body && typeof params.body === 'object' ? (params.body as Record<string, unknown>) : {};
        body = new URLSearchParams(Object.entries(obj).map(([k, v]): [string, string] => [k, String(v)])).toString();
        headers['content-type'] ??= 'application/x-www-form-urlencoded';
      } else body = typeof params.body === 'string' ? params.body : JSON.stringify(params.body);
    }
    if (params.secretId) {
      const secret = await ctx.secrets.reveal(params.secretId);
      switch (params.authType) {
        case 'bearer':
          headers.authorization = `Bearer ${secret.value}`;
          break;
        case 'basic':
          headers.authorization = `Basic ${Buffer.from(secret.value).toString('base64')}`;
          break;
        case 'header':
          headers[(params.authName ?? 'x-api-key').toLowerCase()] = secret.value;
          break;
        case 'query':
          url.searchParams.set(params.authName ?? 'api_key', secret.value);
          break;
        default: {
          const never: never = params.authType;
          return never;
        }
      }
    }
    const res = await ctx.http.request({
      method: params.method,
      url: url.toString(),
      headers,
      ...(body === undefined ? {} : { body }),
      timeoutMs: params.timeoutMs,
    });
    const text = Buffer.from(res.body).toString('utf8');
    const isJson = params.response === 'json' || (params.response === 'auto' && /json/i.test(res.headers['content-type'] ?? ''));
    let data: unknown = text;
    if (isJson && text.length) {
      try {
        data = JSON.parse(text);
      } catch {
        if (params.response === 'json') throw new NodeError(`The answer is not JSON (status ${res.status}).`, { code: 'HTTP_BAD_RESPONSE', retryable: false });
      }
    }
    const out = { status: res.status, headers: res.headers, body: data };
    if (params.failOnStatus && res.status >= 400) {
      const retryable = res.status >= 500 || res.status === 429;
      throw new NodeError(`The server answered ${res.status}.`, {
        code: 'HTTP_STATUS',
        details: { status: res.status, body: typeof data === 'string' ? data.slice(0, 500) : data },
        retryable,
      });
    }
    ctx.log('info', `${params.method} ${url.origin}${url.pathname} → ${res.status}`);
    return { main: out };
  },
});
