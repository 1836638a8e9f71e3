import { describe, expect, it } from 'vitest';
import { KEY_PLACEHOLDER, configJson, integrationSnippets } from './snippets';

describe('configJson', () => {
  it('keeps what fits on its line, opens up the rest, and stays the same JSON', () => {
    const key = `inf_${'x'.repeat(43)}`;
    const env = { INFINITY_API_KEY: key, LONGER_NAME_TO_PASS_THE_WIDTH: key };
    const value = { mcpServers: { infinity: { command: 'npx', args: ['--no-install', 'infinity', 'mcp', '--url', 'https://infinity.example.com'], env } } };
    const text = configJson(value);
    expect(text).toBe(
      [
        '{',
        '  "mcpServers": {',
        '    "infinity": {',
        '      "command": "npx",',
        '      "args": ["--no-install", "infinity", "mcp", "--url", "https://infinity.example.com"],',
        '      "env": {',
        `        "INFINITY_API_KEY": "${key}",`,
        `        "LONGER_NAME_TO_PASS_THE_WIDTH": "${key}"`,
        '      }',
        '    }',
        '  }',
        '}',
      ].join('\n'),
    );
    expect(JSON.parse(text)).toEqual(value);
    expect(text.split('\n').every((l) => l.length <= 100)).toBe(true);
    expect(configJson({ a: [], b: {}, c: 'say "hi"' })).toBe('{ "a": [], "b": {}, "c": "say \\"hi\\"" }');
  });
});

describe('integration snippets', () => {
  it('carry the key only when given one, else the placeholder, in every snippet that needs it', () => {
    const key = 'inf_abc';
    const withKey = integrationSnippets('https://infinity.example.com', key).flatMap((g) => g.snippets);
    const without = integrationSnippets('https://infinity.example.com', null).flatMap((g) => g.snippets);
    const needsKey = ['n8n-api-key', 'api-key', 'claude-code', 'mcp-json', 'claude-desktop', 'curl-me'];
    expect(withKey.filter((s) => s.text.includes(key)).map((s) => s.id)).toEqual(needsKey);
    expect(without.filter((s) => s.text.includes(KEY_PLACEHOLDER)).map((s) => s.id)).toEqual(needsKey);
    expect(without.some((s) => s.text.includes(key))).toBe(false);
  });
});
