import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { OutboundRefused } from '../../platform/net/outbound-http.js';
import type { OutboundHttp } from '../../platform/net/outbound-http.js';
import { VERSION } from '../../version.js';
import type { OrgActor } from '../access/index.js';
import { type VaultContext, assertHostAllowed, getSecret, hostAllowed, revealSecret } from '../vault/index.js';

/** One tool of an external MCP server, as an agent offers it to its model. */
export interface McpRemoteTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  readOnly: boolean;
}

export interface McpServerRef {
  url: string;
  secretId?: string | undefined;
}

/** Bounds of one exchange with an external MCP server. */
const LIST_TIMEOUT_MS = 15_000;
const CALL_TIMEOUT_MS = 60_000;
const MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
const MAX_TOOLS = 64;

/**
 * A fetch through the outbound guard (private and loopback addresses refused unless
 * INFINITY_HTTP_ALLOW opens them; no redirects) whose answers stop at MAX_RESPONSE_BYTES.
 */
function guardedFetch(outbound: OutboundHttp) {
  return async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const res = await outbound.fetch(input, init);
    if (!res.body) return res;
    let size = 0;
    const limited = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          size += chunk.byteLength;
          if (size > MAX_RESPONSE_BYTES) ctl.error(new Error(`The MCP server's answer is larger than ${MAX_RESPONSE_BYTES} bytes.`));
          else ctl.enqueue(chunk);
        },
      }),
    );
    return new Response(limited, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

/** The external MCP servers an agent reaches: the guard, the vault for their bearer secrets. */
export class McpServers {
  constructor(private readonly deps: { outbound: OutboundHttp; vault: VaultContext }) {}

  /** Why this server cannot be used (URL refused by the guard, secret missing or not allowed for its host), or null. */
  async problem(
    actor: OrgActor,
    ref: McpServerRef,
  ): Promise<{ field: 'url' | 'secretId'; code: 'refused' | 'not_found' | 'host_not_allowed'; message: string } | null> {
    try {
      await this.deps.outbound.checkTarget(ref.url);
    } catch (err) {
      if (err instanceof OutboundRefused) return { field: 'url', code: 'refused', message: err.message };
      throw err;
    }
    if (ref.secretId) {
      const secret = await getSecret(this.deps.vault, actor, ref.secretId).catch(() => null);
      if (!secret) return { field: 'secretId', code: 'not_found', message: 'no such secret in this organization' };
      if (!hostAllowed(new URL(ref.url).hostname, secret.allowedHosts))
        return {
          field: 'secretId',
          code: 'host_not_allowed',
          message: `the secret may not be sent to ${new URL(ref.url).hostname} (its allowed hosts: ${secret.allowedHosts.join(', ') || 'none'})`,
        };
    }
    return null;
  }

  /** Connects (initialize) with the secret as bearer token, runs `fn`, and always disconnects. */
  private async session<T>(actor: OrgActor, ref: McpServerRef, fn: (client: Client) => Promise<T>): Promise<T> {
    const headers: Record<string, string> = {};
    if (ref.secretId) {
      const secret = await revealSecret(this.deps.vault, actor, ref.secretId, 'agent MCP tool');
      assertHostAllowed(secret, ref.url);
      headers.authorization = `Bearer ${secret.value}`;
    }
    const transport = new StreamableHTTPClientTransport(new URL(ref.url), { fetch: guardedFetch(this.deps.outbound), requestInit: { headers } });
    const client = new Client({ name: 'infinity-agent', version: VERSION });
    try {
      await client.connect(transport, { timeout: LIST_TIMEOUT_MS });
      return await fn(client);
    } finally {
      await client.close().catch(() => undefined);
    }
  }

  /** The server's tools (the first MAX_TOOLS, with their JSON Schemas). */
  async list(actor: OrgActor, ref: McpServerRef): Promise<McpRemoteTool[]> {
    return this.session(actor, ref, async (client) => {
      const { tools } = await client.listTools(undefined, { timeout: LIST_TIMEOUT_MS });
      return tools.slice(0, MAX_TOOLS).map((t) => ({
        name: t.name,
        description: (t.description ?? t.title ?? '').slice(0, 2000),
        inputSchema: t.inputSchema,
        readOnly: t.annotations?.readOnlyHint === true,
      }));
    });
  }

  /** Calls one tool; a result the server marks as an error is thrown as one (the model sees it as the tool's error). */
  async call(actor: OrgActor, ref: McpServerRef, name: string, args: Record<string, unknown>): Promise<unknown> {
    const result = (await this.session(actor, ref, (client) =>
      client.callTool({ name, arguments: args }, undefined, { timeout: CALL_TIMEOUT_MS }),
    )) as CallToolResult;
    const text = result.content
      .map((c) => (c.type === 'text' ? c.text : c.type === 'resource' && 'text' in c.resource ? c.resource.text : `[${c.type}]`))
      .join('\n');
    if (result.isError) throw new Error(text.slice(0, 2000) || `The MCP tool ${name} failed.`);
    return result.structuredContent ?? text;
  }
}
