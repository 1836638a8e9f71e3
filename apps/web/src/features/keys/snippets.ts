/**
 * Ready-to-paste connection snippets for the integrations (docs/integrations): built from this
 * server's origin and, only in a new key's one-time view, the key itself; otherwise a placeholder.
 */

/** What a snippet shows where the key goes when the key is no longer known (after the one-time view). */
export const KEY_PLACEHOLDER = 'YOUR_API_KEY';

export interface Snippet {
  id: string;
  /** Also the copy button's accessible name: "Copy <title>". */
  title: string;
  text: string;
  /** A line under the title; `text in backticks` shows as code. */
  note?: string;
}

export interface SnippetGroup {
  id: 'n8n' | 'zapier-make' | 'mcp' | 'curl';
  label: string;
  intro: string;
  /** Which key to give it (kind and role), and why; follows “Key to give it: ”. */
  role: string;
  snippets: Snippet[];
}

/**
 * JSON as people write config files: an object or array that fits on its line (`width` characters)
 * stays on one line, a longer one opens up, two spaces per level. `lead` is what precedes the value
 * on its line (indentation and key).
 */
export function configJson(value: unknown, indent = '', lead = 0, width = 100): string {
  const flat = JSON.stringify(value, null, 1).replace(/\n\s*/g, ' ').replace(/\[ /g, '[').replace(/ \]/g, ']');
  if (value === null || typeof value !== 'object' || lead + flat.length <= width) return flat;
  const inner = `${indent}  `;
  const lines = Array.isArray(value)
    ? value.map((v) => `${inner}${configJson(v, inner, inner.length, width)}`)
    : Object.entries(value).map(([k, v]) => {
        const head = `${inner}${JSON.stringify(k)}: `;
        return `${head}${configJson(v, inner, head.length, width)}`;
      });
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  return `${open}\n${lines.join(',\n')}\n${indent}${close}`;
}

export function integrationSnippets(origin: string, key: string | null): SnippetGroup[] {
  const apiKey = key ?? KEY_PLACEHOLDER;
  const mcpUrl = `${origin}/api/v1/mcp`;
  const webhookRole =
    'a service account with role admin: the triggers subscribe webhooks, which needs admin. Without triggers, editor is enough (records, actions, flows).';
  return [
    {
      id: 'n8n',
      label: 'n8n',
      intro:
        'Install the community node n8n-nodes-infinity on a self-hosted n8n from its tarball (it is not on npm yet, so n8n’s Community nodes screen cannot find it), restart n8n, then add a credential “Infinity API” with these two fields. An n8n on this machine or your network: start Infinity with INFINITY_HTTP_ALLOW naming it (e.g. 127.0.0.1/32,::1/128), or the Infinity Trigger’s webhook is refused.',
      role: webhookRole,
      snippets: [
        {
          id: 'n8n-install',
          title: 'Install from the tarball',
          note: 'Run in an Infinity checkout: packs the node into n8n’s custom folder (`~/.n8n/custom` by default, or `N8N_CUSTOM_EXTENSIONS`) and installs it there without pulling n8n’s own packages again (`--legacy-peer-deps`); then restart n8n.',
          text: [
            'mkdir -p ~/.n8n/custom',
            'npm pack --workspace packages/n8n-nodes-infinity --pack-destination ~/.n8n/custom',
            'cd ~/.n8n/custom && ([ -f package.json ] || npm init -y >/dev/null)',
            'npm install --legacy-peer-deps ./n8n-nodes-infinity-*.tgz',
          ].join('\n'),
        },
        { id: 'n8n-base-url', title: 'Base URL', text: origin },
        { id: 'n8n-api-key', title: 'API Key', text: apiKey },
      ],
    },
    {
      id: 'zapier-make',
      label: 'Zapier / Make',
      intro: 'When you connect the Infinity app in Zapier or Make, its connection asks for these two fields.',
      role: webhookRole,
      snippets: [
        { id: 'infinity-url', title: 'Infinity URL', note: 'This server’s address, without `/api/v1`.', text: origin },
        { id: 'api-key', title: 'API key', text: apiKey },
      ],
    },
    {
      id: 'mcp',
      label: 'MCP clients',
      intro: 'Claude, Cursor and any Model Context Protocol client reach your models, records, actions and flows as tools.',
      role: 'viewer for an assistant that only reads; editor to let it create and update records and run actions and flows. The key’s role bounds every tool.',
      snippets: [
        {
          id: 'claude-code',
          title: 'Claude Code',
          text: `claude mcp add --transport http infinity ${mcpUrl} \\\n  --header "X-API-Key: ${apiKey}"`,
        },
        {
          id: 'mcp-json',
          title: 'Cursor or any Streamable HTTP client (mcp.json)',
          text: configJson({ mcpServers: { infinity: { url: mcpUrl, headers: { 'X-API-Key': apiKey } } } }),
        },
        {
          id: 'claude-desktop',
          title: 'Claude Desktop (stdio, through the bridge)',
          note: 'In `claude_desktop_config.json`. Runs the bridge `infinity mcp` of an Infinity checkout on that machine (`npm install` built it): replace /path/to/infinity with its folder. Claude Desktop starts commands in no particular folder, so the path is absolute; `npx infinity` would look the name up on npm, where an unrelated package has it.',
          text: configJson({
            mcpServers: {
              infinity: { command: 'node', args: ['/path/to/infinity/apps/server/dist/cli.js', 'mcp', '--url', origin], env: { INFINITY_API_KEY: apiKey } },
            },
          }),
        },
      ],
    },
    {
      id: 'curl',
      label: 'curl',
      intro: 'Check the key: the answer names the key, its organization and its role.',
      role: 'any.',
      snippets: [{ id: 'curl-me', title: 'curl', text: `curl -H "X-API-Key: ${apiKey}" ${origin}/api/v1/me` }],
    },
  ];
}
