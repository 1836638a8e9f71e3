/**
 * `infinity mcp` as a desktop MCP client starts it (issue #28): the SDK's stdio client spawns the
 * built CLI, which bridges stdio to the Streamable HTTP endpoint of a running `infinity start`.
 * Tools are listed and called through the bridge; the key may come from INFINITY_API_KEY; stdout
 * carries only MCP messages; the bridge exits when its stdin closes.
 */
import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { testBackends } from '../../apps/server/src/platform/testing/backends.js';
import { CLI, e2eEnv, startServer } from './server-process.js';

const text = (r: unknown) => ((r as CallToolResult).content[0] as { text: string }).text;

for (const backend of testBackends()) {
  describe(`infinity mcp: the stdio bridge [${backend}]`, () => {
    it('a stdio MCP client drives `infinity mcp --url --api-key` and calls tools on the running server', { timeout: 180_000 }, async () => {
      const s = await startServer([], await e2eEnv(backend, 'mcp-bridge'));
      try {
        const api = async (p: string, token: string, body: unknown) => {
          const r = await fetch(`${s.url}/api/v1${p}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
            body: JSON.stringify(body),
          });
          expect(r.status, p).toBe(201);
          return ((await r.json()) as { data: Record<string, unknown> }).data;
        };
        const { accessToken } = (await api('/auth/signup', '', { name: 'Desk', email: 'desk@example.com', password: 'desk password 1' })) as {
          accessToken: string;
        };
        await api('/models', accessToken, { name: 'notes', fields: [{ name: 'body', type: 'text' }] });
        await api('/data/notes', accessToken, { body: 'remember the milk' });
        const { key } = (await api('/api-keys', accessToken, { name: 'claude desktop', role: 'editor' })) as { key: string };

        // With --api-key, as the docs' Claude Desktop configuration does.
        const stderr: string[] = [];
        const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp', '--url', s.url, '--api-key', key], stderr: 'pipe' });
        transport.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
        const client = new Client({ name: 'desktop', version: '1.0.0' });
        await client.connect(transport);
        try {
          expect(client.getServerVersion()?.name).toBe('infinity');
          expect((await client.listTools()).tools.map((t) => t.name)).toContain('query_records');
          const page = JSON.parse(text(await client.callTool({ name: 'query_records', arguments: { model: 'notes' } }))) as { data: { body: string }[] };
          expect(page.data.map((n) => n.body)).toEqual(['remember the milk']);
          const made = await client.callTool({ name: 'create_record', arguments: { model: 'notes', values: { body: 'written through stdio' } } });
          expect(made.isError).toBeFalsy();
          expect((await client.listResources()).resources.map((r) => r.uri)).toEqual(['infinity://models/notes']);
        } finally {
          await client.close();
        }
        expect(stderr.join('')).toContain('bridging stdio to');
        expect(stderr.join('')).not.toContain(key);

        // With INFINITY_API_KEY (the key stays out of the process list); a raw exchange shows stdout
        // holds only JSON-RPC lines, and closing stdin ends the process with 0.
        const proc = spawn(process.execPath, [CLI, 'mcp', '--url', s.url], { env: { ...process.env, INFINITY_API_KEY: key }, stdio: ['pipe', 'pipe', 'pipe'] });
        const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
        let out = '';
        const answered = new Promise<void>((resolve) =>
          proc.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.includes('"id":2')) resolve();
          }),
        );
        const send = (m: unknown) => proc.stdin.write(`${JSON.stringify(m)}\n`);
        send({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
        });
        send({ jsonrpc: '2.0', method: 'notifications/initialized' });
        send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'list_models', arguments: {} } });
        await answered;
        const lines = out
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { id?: number; result?: { content: { text: string }[] } });
        expect(lines.map((l) => l.id)).toEqual([1, 2]);
        expect(JSON.parse(lines[1]!.result!.content[0]!.text)).toEqual([expect.objectContaining({ name: 'notes' })]);
        proc.stdin.end();
        expect(await exited).toBe(0);

        // Piped input (`echo '<request>' | infinity mcp`): stdin closes at once, and the answer still comes before the exit.
        const piped = spawn(process.execPath, [CLI, 'mcp', '--url', s.url], {
          env: { ...process.env, INFINITY_API_KEY: key },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let pipedOut = '';
        piped.stdout.on('data', (d: Buffer) => (pipedOut += d.toString()));
        const pipedExit = new Promise<number | null>((resolve) => piped.on('exit', (code) => resolve(code)));
        piped.stdin.end(
          `${JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'echo', version: '1' } } })}\n`,
        );
        expect(await pipedExit).toBe(0);
        expect(JSON.parse(pipedOut.trim()) as unknown).toMatchObject({ jsonrpc: '2.0', id: 3, result: { serverInfo: { name: 'infinity' } } });

        // A key the server refuses: the client's request is answered with the server's error (it never hangs).
        const refused = spawn(process.execPath, [CLI, 'mcp', '--url', s.url], {
          env: { ...process.env, INFINITY_API_KEY: 'inf_wrong_key_0000' },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        const refusedExit = new Promise<number | null>((resolve) => refused.on('exit', (code) => resolve(code)));
        const answer = await new Promise<string>((resolve) => {
          let buf = '';
          refused.stdout.on('data', (d: Buffer) => {
            buf += d.toString();
            if (buf.includes('\n')) resolve(buf);
          });
          refused.stdin.write(
            `${JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } })}\n`,
          );
        });
        expect(JSON.parse(answer) as unknown).toMatchObject({
          jsonrpc: '2.0',
          id: 7,
          error: { code: -32000, message: expect.stringContaining('AUTH_API_KEY_INVALID') },
        });
        refused.stdin.end();
        expect(await refusedExit).toBe(0);
      } finally {
        await s.stop();
      }
    });
  });
}
