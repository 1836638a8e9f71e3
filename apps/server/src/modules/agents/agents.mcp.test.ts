import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { type SeenRequest, fakeAiForSuite } from '../../platform/testing/fake-ai.js';
import { describeEachDb } from '../../platform/testing/harness.js';

const KEY = 'sk-agent-mcp-test-4d1f20';
const MCP_TOKEN = 'mcp-bearer-token-93be7a';
const fake = fakeAiForSuite(KEY);

const toolNames = (r: SeenRequest) => ((r.body.tools ?? []) as { function: { name: string } }[]).map((t) => t.function.name);
const toolResults = (r: SeenRequest) =>
  (r.body.messages as { role: string; content: string }[])
    .filter((m) => m.role === 'tool')
    .map((m) => m.content)
    .join(' ');

/**
 * An external MCP server, written with the SDK, on a loopback address: a read-only lookup and a
 * write that the agent's allow-list leaves out. It requires the bearer token the vault holds.
 */
async function externalMcpServer(host: string) {
  const calls: { tool: string; args: unknown; auth: string | undefined }[] = [];
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      if (req.headers.authorization !== `Bearer ${MCP_TOKEN}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
        return;
      }
      const mcp = new McpServer({ name: 'crm', version: '1.0.0' });
      mcp.registerTool(
        'lookup_customer',
        { description: 'Finds a customer by email; answers their tier.', inputSchema: { email: z.string() }, annotations: { readOnlyHint: true } },
        async ({ email }) => {
          calls.push({ tool: 'lookup_customer', args: { email }, auth: req.headers.authorization });
          return { content: [{ type: 'text', text: email === 'ann@example.com' ? 'Ann Smith is a GOLD-TIER customer since 2019' : 'no such customer' }] };
        },
      );
      mcp.registerTool('delete_customer', { description: 'Deletes a customer.', inputSchema: { email: z.string() } }, async ({ email }) => {
        calls.push({ tool: 'delete_customer', args: { email }, auth: req.headers.authorization });
        return { content: [{ type: 'text', text: 'deleted' }] };
      });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => void mcp.close());
      void mcp.connect(transport).then(() => transport.handleRequest(req, res, raw ? (JSON.parse(raw) as unknown) : undefined));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}/mcp`,
    calls,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describeEachDb(
  'agents: tools of an external MCP server',
  (h) => {
    let crm: Awaited<ReturnType<typeof externalMcpServer>>;
    // 127.0.0.2 is loopback too, but outside INFINITY_HTTP_ALLOW (127.0.0.1/32): the guard refuses it.
    let outside: Awaited<ReturnType<typeof externalMcpServer>>;
    beforeAll(async () => {
      crm = await externalMcpServer('127.0.0.1');
      outside = await externalMcpServer('127.0.0.2');
    });
    afterAll(async () => {
      await crm?.close();
      await outside?.close();
    });

    it('an agent calls a tool of an MCP server on loopback; the tool’s answer reaches the conversation', async () => {
      const owner = await signUp(h());
      const key = (await createApiKey(h(), owner.token, 'admin')).key;
      const req = (method: string, url: string, body?: unknown) => h().request({ method, url, apiKey: key, body });
      const aiSecret = (await req('POST', '/api/v1/secrets', { name: 'OpenAI', provider: 'openai', value: KEY, baseUrl: `${fake.url}/v1` })).json().data.id;
      const mcpSecret = (await req('POST', '/api/v1/secrets', { name: 'CRM token', provider: 'generic', value: MCP_TOKEN, allowedHosts: ['127.0.0.1'] })).json()
        .data.id as string;
      const otherHost = (
        await req('POST', '/api/v1/secrets', { name: 'elsewhere', provider: 'generic', value: 'x-token-1', allowedHosts: ['api.example.com'] })
      ).json().data.id as string;
      const agent = (tools: unknown[]) =>
        req('POST', '/api/v1/agents', { name: 'CRM helper', provider: 'openai', model: 'gpt-4o-mini', secretId: aiSecret, tools });

      // Refused on save: the guard refuses the address; a missing secret; a secret not allowed for the host.
      const bad = await agent([
        { kind: 'mcp', url: outside.url },
        { kind: 'mcp', url: crm.url, secretId: '00000000-0000-7000-8000-000000000000' },
        { kind: 'mcp', url: crm.url, secretId: otherHost },
      ]);
      expect(bad.statusCode, bad.body).toBe(422);
      expect(bad.json().error.code).toBe('AGENT_INVALID');
      const details = bad.json().error.details as { field: string; code: string; message: string }[];
      expect(details.map((d) => [d.field, d.code])).toEqual([
        ['tools.0.url', 'refused'],
        ['tools.1.secretId', 'not_found'],
        ['tools.2.secretId', 'host_not_allowed'],
      ]);
      expect(details[0]!.message).toContain('INFINITY_HTTP_ALLOW');
      expect(outside.seen).toEqual([]);
      expect((await agent([{ kind: 'mcp', url: 'ftp://127.0.0.1/mcp' }])).statusCode).toBe(400);

      const made = await agent([{ kind: 'mcp', url: crm.url, secretId: mcpSecret, tools: ['lookup_customer'], name: 'crm' }]);
      expect(made.statusCode, made.body).toBe(201);
      expect(made.json().data.tools).toEqual([{ kind: 'mcp', url: crm.url, secretId: mcpSecret, tools: ['lookup_customer'], name: 'crm' }]);
      const agentId = made.json().data.id as string;

      fake.script((r) => {
        if (toolNames(r).includes('crm_lookup_customer') && !toolResults(r))
          return { toolCalls: [{ name: 'crm_lookup_customer', args: { email: 'ann@example.com' } }] };
        const said = toolResults(r);
        return { text: said.includes('GOLD-TIER') ? 'Ann is a gold-tier customer.' : `I could not find out (${said.slice(0, 80)}).` };
      });
      const before = fake.seen.length;
      const cid = (await req('POST', `/api/v1/agents/${agentId}/conversations`, {})).json().data.id as string;
      const r = await req('POST', `/api/v1/agents/${agentId}/conversations/${cid}/messages`, { content: 'What tier is ann@example.com?' });
      expect(r.statusCode, r.body).toBe(200);
      const reply = r.json().data as { message: { content: string }; toolCalls: { name: string; input: unknown; output: unknown }[] };
      expect(reply.message.content).toBe('Ann is a gold-tier customer.');
      expect(reply.toolCalls).toEqual([
        expect.objectContaining({ name: 'crm_lookup_customer', input: { email: 'ann@example.com' }, output: 'Ann Smith is a GOLD-TIER customer since 2019' }),
      ]);
      // The model was offered only the allow-listed tool, with the server's JSON Schema.
      const offered = fake.seen.slice(before)[0]!.body.tools as { function: { name: string; parameters: { properties: Record<string, unknown> } } }[];
      expect(offered.map((t) => t.function.name)).toEqual(['crm_lookup_customer']);
      expect(Object.keys(offered[0]!.function.parameters.properties)).toEqual(['email']);
      expect(crm.calls).toEqual([{ tool: 'lookup_customer', args: { email: 'ann@example.com' }, auth: `Bearer ${MCP_TOKEN}` }]);
      const msgs = (await req('GET', `/api/v1/agents/${agentId}/conversations/${cid}/messages`)).json().data as {
        role: string;
        tool: { output: unknown } | null;
      }[];
      expect(msgs.find((m) => m.role === 'tool')!.tool!.output).toBe('Ann Smith is a GOLD-TIER customer since 2019');
      expect(h().logs.join('\n')).not.toContain(MCP_TOKEN);
      expect(JSON.stringify(msgs)).not.toContain(MCP_TOKEN);

      // A viewer chatting gets only the server's read-only tools; without the allow-list the write tool is there for editors.
      await req('PATCH', `/api/v1/agents/${agentId}`, { tools: [{ kind: 'mcp', url: crm.url, secretId: mcpSecret }] });
      fake.script(() => ({ text: 'ok' }));
      const viewerKey = (await createApiKey(h(), owner.token, 'viewer')).key;
      const asViewer = (method: string, url: string, body?: unknown) => h().request({ method, url, apiKey: viewerKey, body });
      const vc = (await asViewer('POST', `/api/v1/agents/${agentId}/conversations`, {})).json().data.id as string;
      const mark = fake.seen.length;
      expect((await asViewer('POST', `/api/v1/agents/${agentId}/conversations/${vc}/messages`, { content: 'hi' })).statusCode).toBe(200);
      expect(toolNames(fake.seen[mark]!)).toEqual(['lookup_customer']);
      const mark2 = fake.seen.length;
      expect((await req('POST', `/api/v1/agents/${agentId}/conversations/${cid}/messages`, { content: 'hi' })).statusCode).toBe(200);
      expect(toolNames(fake.seen[mark2]!).sort()).toEqual(['delete_customer', 'lookup_customer']);
    });
  },
  { INFINITY_HTTP_ALLOW: '127.0.0.1/32' },
);
