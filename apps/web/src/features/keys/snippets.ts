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
  note?: string;
}

export interface SnippetGroup {
  id: 'n8n' | 'zapier-make' | 'mcp' | 'curl';
  label: string;
  intro: string;
  /** Which role to give the key, and why. */
  role: string;
  snippets: Snippet[];
}

const json = (value: unknown) => JSON.stringify(value, null, 2);

export function integrationSnippets(origin: string, key: string | null): SnippetGroup[] {
  const apiKey = key ?? KEY_PLACEHOLDER;
  const mcpUrl = `${origin}/api/v1/mcp`;
  const baseUrl: Snippet = { id: 'base-url', title: 'Base URL', text: origin };
  const keyField: Snippet = { id: 'api-key', title: 'API key', text: apiKey };
  const webhookRole =
    'A service-account key. Role admin if you use the triggers (they subscribe webhooks, which needs admin); editor is enough to read and write records and run actions and flows.';
  return [
    {
      id: 'n8n',
      label: 'n8n',
      intro:
        'Install the community node n8n-nodes-infinity (Settings → Community nodes → Install, or from its tarball on a self-hosted n8n), then add a credential “Infinity API” with these two fields.',
      role: webhookRole,
      snippets: [
        {
          id: 'n8n-install',
          title: 'Install from the tarball',
          note: 'In an Infinity checkout: packs the node into n8n’s custom folder, installs it there; restart n8n.',
          text: [
            'npm pack --workspace packages/n8n-nodes-infinity --pack-destination ~/.n8n/custom',
            'cd ~/.n8n/custom && npm install ./n8n-nodes-infinity-*.tgz',
          ].join('\n'),
        },
        { ...baseUrl, id: 'n8n-base-url' },
        { ...keyField, id: 'n8n-api-key' },
      ],
    },
    {
      id: 'zapier-make',
      label: 'Zapier / Make',
      intro: 'When you connect the Infinity app in Zapier or Make, its connection asks for these two fields.',
      role: webhookRole,
      snippets: [baseUrl, keyField],
    },
    {
      id: 'mcp',
      label: 'MCP clients',
      intro: 'Claude, Cursor and any Model Context Protocol client reach your models, records, actions and flows as tools.',
      role: 'Viewer for an assistant that only reads; editor to let it create and update records and run actions and flows. The key’s role bounds every tool.',
      snippets: [
        {
          id: 'claude-code',
          title: 'Claude Code',
          text: `claude mcp add --transport http infinity ${mcpUrl} \\\n  --header "X-API-Key: ${apiKey}"`,
        },
        {
          id: 'mcp-json',
          title: 'Cursor or any Streamable HTTP client (mcp.json)',
          text: json({ mcpServers: { infinity: { url: mcpUrl, headers: { 'X-API-Key': apiKey } } } }),
        },
        {
          id: 'claude-desktop',
          title: 'Claude Desktop (stdio, through the bridge)',
          note: 'claude_desktop_config.json. The bridge is `infinity mcp --url URL --api-key KEY`; here the key comes from INFINITY_API_KEY.',
          text: json({ mcpServers: { infinity: { command: 'npx', args: ['infinity', 'mcp', '--url', origin], env: { INFINITY_API_KEY: apiKey } } } }),
        },
      ],
    },
    {
      id: 'curl',
      label: 'curl',
      intro: 'Check the key: the answer names the key, its organization and its role.',
      role: 'Any role.',
      snippets: [{ id: 'curl-me', title: 'curl', text: `curl -H "X-API-Key: ${apiKey}" ${origin}/api/v1/me` }],
    },
  ];
}
