import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { type JSONRPCMessage, isJSONRPCErrorResponse, isJSONRPCRequest, isJSONRPCResultResponse } from '@modelcontextprotocol/sdk/types.js';

/** The MCP endpoint of a server: its base URL, or the endpoint itself. */
export function mcpEndpoint(url: string): URL {
  const u = new URL(url);
  if (!u.pathname.replace(/\/+$/, '').endsWith('/api/v1/mcp')) u.pathname = `${u.pathname.replace(/\/+$/, '')}/api/v1/mcp`;
  return u;
}

const log = (message: string) => process.stderr.write(`infinity mcp: ${message}\n`);

/**
 * `infinity mcp`: a desktop MCP client (which starts servers as processes and speaks on stdio)
 * reaches a server's Streamable HTTP endpoint. Messages are forwarded unchanged both ways; stdout
 * carries only MCP messages, everything else goes to stderr (the key never does). It ends when
 * stdin closes (the client quit), after answering the requests still in flight (at most a minute),
 * so `echo '<request>' | infinity mcp` prints its answer.
 */
export async function runMcpBridge(o: { url: string; apiKey: string }): Promise<void> {
  const endpoint = mcpEndpoint(o.url);
  const remote = new StreamableHTTPClientTransport(endpoint, { requestInit: { headers: { authorization: `Bearer ${o.apiKey}` } } });
  const local = new StdioServerTransport();
  let closing = false;
  const close = async (code: number) => {
    if (closing) return;
    closing = true;
    await remote.close().catch(() => undefined);
    process.exit(code);
  };
  // Requests sent and not yet answered: stdin may close before their answers arrive.
  const inFlight = new Set<string | number>();
  let stdinClosed = false;
  const answered = (id: string | number) => {
    inFlight.delete(id);
    if (stdinClosed && inFlight.size === 0) void close(0);
  };
  const stdinEnded = () => {
    if (stdinClosed) return;
    stdinClosed = true;
    if (inFlight.size === 0) return void close(0);
    setTimeout(() => void close(0), 60_000).unref();
  };

  local.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCRequest(message)) inFlight.add(message.id);
    remote.send(message).catch(async (err: unknown) => {
      const text = err instanceof Error ? err.message : String(err);
      log(`${endpoint.href} refused a message: ${text}`);
      // A request must be answered, or the client waits for ever: the failure becomes its error.
      if (isJSONRPCRequest(message)) {
        await local.send({ jsonrpc: '2.0', id: message.id, error: { code: -32000, message: `Infinity refused: ${text}` } });
        answered(message.id);
      }
    });
  };
  remote.onmessage = (message: JSONRPCMessage) => {
    // Later requests carry the negotiated protocol version (MCP-Protocol-Version), as the SDK's own client does.
    if (isJSONRPCResultResponse(message) && typeof message.result.protocolVersion === 'string') remote.setProtocolVersion(message.result.protocolVersion);
    void local.send(message).then(() => {
      if ((isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) && message.id !== undefined) answered(message.id);
    });
  };
  remote.onerror = (err) => log(`connection: ${err.message}`);
  local.onerror = (err) => log(`stdin: ${err.message}`);
  process.stdin.on('end', stdinEnded);
  process.stdin.on('close', stdinEnded);
  process.on('SIGTERM', () => void close(0));
  process.on('SIGINT', () => void close(0));
  await remote.start();
  await local.start();
  log(`bridging stdio to ${endpoint.href}`);
}
