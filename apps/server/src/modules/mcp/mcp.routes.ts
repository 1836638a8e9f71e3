import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { errorBodySchema } from '@infinity/contracts';
import { z } from 'zod';
import type { App } from '../../platform/http/index.js';
import { orgActorOf } from '../access/index.js';
import { mcpErrors } from './mcp.errors.js';
import { type McpContext, mcpServerFor } from './mcp.server.js';

/** One JSON-RPC 2.0 message (the SDK validates the rest: methods, params, ids). */
const jsonRpcMessage = z.looseObject({
  jsonrpc: z.literal('2.0'),
  id: z.union([z.string().max(200), z.number()]).optional(),
  method: z.string().max(200).optional(),
  params: z.unknown().optional(),
  result: z.unknown().optional(),
  error: z.unknown().optional(),
});
/**
 * One message per request. MCP 2025-06-18 removed JSON-RPC batching; accepting batches let one
 * request run 50 tool calls (50 heavy searches stalled every tenant on the embedded database, and
 * the rate limit, which counts requests, let 50 writes through as one). A one-element array is
 * still taken from older clients.
 */
const mcpBody = z
  .union([jsonRpcMessage, z.array(jsonRpcMessage).length(1, 'send one JSON-RPC message per request (MCP has no batches since 2025-06-18)')])
  .describe('One JSON-RPC 2.0 message of the Model Context Protocol');

const notAllowed = async () => {
  throw mcpErrors.MCP_METHOD_NOT_ALLOWED('This MCP endpoint is stateless: send every message with POST (Streamable HTTP, no session).', { allow: ['POST'] });
};

/**
 * The Model Context Protocol over Streamable HTTP, stateless: each POST gets a fresh server and
 * transport bound to its caller, so any api process answers any request (no session id, no
 * sticky routing). The access guard has authenticated the caller before the handler runs.
 */
export function mcpRoutes(ctx: McpContext) {
  return async (app: App) => {
    app.post('/api/v1/mcp', {
      config: { access: { permission: 'org:read' } },
      schema: {
        tags: ['integrations'],
        operationId: 'mcp',
        summary: 'Model Context Protocol endpoint (Streamable HTTP, stateless): tools and resources over this organization’s data',
        description:
          'Send MCP JSON-RPC messages (initialize, tools/list, tools/call, resources/list, resources/read) with Accept: application/json, text/event-stream and an API key. Each tool runs with the key’s role. See docs/integrations/mcp.md.',
        body: mcpBody,
        response: {
          200: z.unknown().describe('The JSON-RPC response (application/json)'),
          202: z.unknown().describe('Accepted: the body held only notifications or responses'),
          401: errorBodySchema.describe('No valid API key or access token'),
        },
      },
      handler: async (request, reply) => {
        const actor = orgActorOf(request);
        const server = mcpServerFor(ctx, actor);
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
        // Headers already set on the reply (rate limit, request id) go out with the hijacked response.
        for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value);
        reply.hijack();
        reply.raw.on('close', () => {
          void transport.close();
          void server.close();
        });
        await server.connect(transport);
        await transport.handleRequest(request.raw, reply.raw, request.body);
      },
    });
    for (const method of ['GET', 'DELETE'] as const) {
      app.route({
        method,
        url: '/api/v1/mcp',
        config: { access: { public: true } },
        schema: {
          // Only ever a 405: documented in docs/api.md, not an operation a client generator should offer.
          hide: true,
          tags: ['integrations'],
          operationId: method === 'GET' ? 'mcpStream' : 'mcpEndSession',
          summary:
            method === 'GET'
              ? 'Not offered: the stateless MCP endpoint opens no server-sent event stream (405)'
              : 'Not offered: the stateless MCP endpoint has no session to end (405)',
          response: { 405: errorBodySchema.describe('MCP_METHOD_NOT_ALLOWED, with Allow: POST') },
        },
        handler: async (_request, reply) => {
          void reply.header('allow', 'POST');
          return notAllowed();
        },
      });
    }
  };
}
