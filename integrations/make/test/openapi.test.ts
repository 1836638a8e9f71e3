/**
 * The OpenAPI check itself: it finds a method the document lacks, an undeclared query or path
 * parameter, and prefers a model's concrete path to the templated one (OpenAPI's matching rule).
 */
import { describe, expect, it } from 'vitest';
import { type OpenApiDoc, checkCalls, checkTemplates } from './openapi.js';
import type { HttpCall } from './request.js';

const doc: OpenApiDoc = {
  servers: [{ url: 'http://localhost/' }],
  paths: {
    '/api/v1/data/{model}': { get: { parameters: [{ name: 'model', in: 'path' }] } },
    '/api/v1/data/orders': { get: { parameters: [{ name: 'limit', in: 'query' }] } },
    '/api/v1/webhooks/{id}': { parameters: [{ name: 'id', in: 'path' }], delete: {} },
    '/api/v1/flows/{id}': { get: {} },
  },
};
const call = (method: string, url: string): HttpCall => ({ code: 'm', method, url: new URL(url, 'http://127.0.0.1'), status: 200 });

describe('the OpenAPI check', () => {
  it('passes requests the document has, preferring concrete paths', () => {
    expect(checkCalls(doc, [call('GET', '/api/v1/data/orders?limit=2'), call('DELETE', '/api/v1/webhooks/w1')])).toEqual([]);
    expect(checkTemplates(doc, [{ code: 'm', method: 'get', path: '/api/v1/data/{{parameters.modelName}}', query: ['limit'] }])).toEqual([]);
  });

  it('reports a missing method, an undeclared query parameter and an undeclared path parameter', () => {
    expect(checkCalls(doc, [call('POST', '/api/v1/data/orders')])).toEqual([
      'm: POST /api/v1/data/orders matches no operation (most specific path: /api/v1/data/orders)',
    ]);
    expect(checkCalls(doc, [call('GET', '/api/v1/data/orders?cursor=x')])).toEqual(['m: GET /api/v1/data/orders does not declare query parameter(s) cursor']);
    expect(checkCalls(doc, [call('GET', '/api/v1/data/items?limit=2')])).toEqual(['m: GET /api/v1/data/{model} does not declare query parameter(s) limit']);
    expect(checkCalls(doc, [call('GET', '/api/v1/flows/f1')])).toEqual(['m: GET /api/v1/flows/{id} does not declare path parameter(s) id']);
    expect(checkTemplates(doc, [{ code: 'm', method: 'patch', path: '/api/v1/webhooks/{{webhook.externalHookId}}', query: [] }])).toEqual([
      'm: PATCH /api/v1/webhooks/{{webhook.externalHookId}} is not in the document',
    ]);
    expect(checkTemplates(doc, [{ code: 'm', method: 'get', path: '/api/v1/data/{{parameters.modelName}}', query: ['cursor'] }])).toHaveLength(1);
    expect(checkTemplates(doc, [{ code: 'm', method: 'get', path: '/api/v1/flows/{{parameters.flowId}}', query: [] }])).toHaveLength(1);
  });
});
