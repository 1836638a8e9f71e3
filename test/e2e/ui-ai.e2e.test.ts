/**
 * Agents in the browser: a key for an OpenAI-compatible server (a loopback fake) stored in the
 * vault, an agent built with a flow as its tool, and a playground chat whose reply streams in with
 * the tool call shown. Also: every sidebar page is reached in at most two clicks, and axe-core
 * finds no serious or critical accessibility problem on any of them.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeAiForSuite } from '../../apps/server/src/platform/testing/fake-ai.js';
import { CHROMIUM, SHOTS, accessToken, axeViolations, browser, signUp } from './browser.js';
import { type RunningServer, e2eEnv, startServer } from './server-process.js';

const KEY = 'sk-local-ui-test-0123456789abcdef';
const fake = fakeAiForSuite(KEY);

describe.runIf(existsSync(CHROMIUM))('agents, navigation and accessibility in chromium', () => {
  let server: RunningServer;
  let context: BrowserContext;
  let page: Page;
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  const nav = () => page.getByRole('navigation', { name: 'Main' });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startServer([], { ...(await e2eEnv('pglite', 'ui-ai')), INFINITY_DEFAULT_PLAN: 'enterprise', INFINITY_HTTP_ALLOW: '127.0.0.1/32' });
    context = await browser({ width: 1280, height: 800 });
    page = context.pages()[0] ?? (await context.newPage());
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await server?.stop();
    expect(server.output.join('\n')).not.toContain(KEY);
  });

  it('stores a local model key, builds an agent with a flow tool and chats with it', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await signUp(page, server.url, { name: 'Ann Agent', email: 'ann@example.com', password: 'agents are people too' });

    // The tool: a flow with an input schema, made through the API.
    const token = await accessToken(page);
    const flow = await fetch(`${server.url}/api/v1/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        name: 'Lookup',
        nodes: [
          { id: 'in', type: 'core.input', name: 'In', params: { schema: { type: 'object', properties: { q: { type: 'string' } } } } },
          { id: 'out', type: 'core.output', name: 'Out', params: { value: '{{ { "found": "Biscuit" } }}' } },
        ],
        edges: [{ id: 'e1', source: 'in', target: 'out' }],
      }),
    });
    expect(flow.status).toBe(201);

    await nav().getByRole('link', { name: 'Vault' }).click();
    await page.getByLabel('Secret name').fill('Local LLM');
    await page.getByLabel('Provider').selectOption('openai-compatible');
    await page.getByLabel('Value', { exact: true }).fill(KEY);
    await page.getByLabel('Base URL (optional)').fill(`${fake.url}/v1`);
    await page.getByRole('button', { name: 'Store secret' }).click();
    await page.getByRole('cell', { name: 'Local LLM', exact: true }).waitFor();

    fake.script((r) => {
      const tools = (r.body.tools ?? []) as { function: { name: string } }[];
      const answered = (r.body.messages as { role: string }[]).some((m) => m.role === 'tool');
      return tools.length && !answered ? { toolCalls: [{ name: tools[0]!.function.name, args: { q: 'cat' } }] } : { text: 'The cat is Biscuit.' };
    });
    await nav().getByRole('link', { name: 'Agents' }).click();
    await page.getByRole('link', { name: 'New agent' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Helper');
    await page.getByLabel('Provider').selectOption('openai-compatible');
    await page.getByLabel('Model', { exact: true }).fill('llama3.2');
    await page.getByLabel('Key from the vault').selectOption({ label: 'Local LLM' });
    await page.getByLabel(/^Empathy/).fill('0.8');
    await page.getByRole('button', { name: '+ Flow' }).click();
    await page.getByLabel('Tool 1 flow').selectOption({ label: 'Lookup' });
    await shot('30-agent-builder');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.getByRole('heading', { name: 'Helper' }).waitFor();

    await page.getByLabel('Message').fill('Who is the cat?');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByTestId('turn-assistant').filter({ hasText: 'The cat is Biscuit.' }).waitFor();
    await page.getByTestId('tool-call').first().waitFor();
    expect(await page.getByTestId('tool-call').first().textContent()).toContain('✓');
    await shot('31-playground');
    expect(fake.seen.at(-1)!.credential).toBe(KEY);
    expect(await page.content()).not.toContain(KEY);
    expect(errors).toEqual([]);
  }, 120_000);

  it('builds an action with a parameter and a step, runs it with a form and lists the run', async () => {
    const token = await accessToken(page);
    const model = await fetch(`${server.url}/api/v1/models`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'notes', fields: [{ name: 'text', type: 'string', required: true }] }),
    });
    expect(model.status).toBe(201);
    await nav().getByRole('link', { name: 'Actions' }).click();
    await page.getByRole('link', { name: 'New action' }).click();
    await page.getByLabel('Action name').fill('Add note');
    await page.getByRole('button', { name: 'Add parameter' }).click();
    await page.getByLabel('Parameter 1 name').fill('text');
    await page.getByLabel('Step 1 model').selectOption('notes');
    await page.getByLabel('Step 1 values (JSON)').fill('{"text": "{{params.text}}"}');
    await page.getByRole('button', { name: 'Save action' }).click();
    await page.getByRole('heading', { name: 'Add note' }).waitFor();
    await page.getByLabel('text *').fill('remember the milk');
    await page.getByRole('button', { name: 'Run action' }).click();
    await expect.poll(async () => page.getByTestId('action-result').textContent()).toContain('remember the milk');
    await page.getByRole('cell', { name: 'succeeded' }).waitFor();
    await shot('33-action');
  }, 120_000);

  it('the data grid renders only the rows in view and loads the next page as you scroll', async () => {
    const token = await accessToken(page);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    expect(
      (
        await fetch(`${server.url}/api/v1/models`, {
          method: 'POST',
          headers,
          body: JSON.stringify({
            name: 'events',
            fields: [
              { name: 'title', type: 'string' },
              { name: 'n', type: 'integer' },
            ],
          }),
        })
      ).status,
    ).toBe(201);
    const items = Array.from({ length: 1000 }, (_, i) => ({ title: `event ${i}`, n: i }));
    expect((await fetch(`${server.url}/api/v1/data/events/bulk`, { method: 'POST', headers, body: JSON.stringify({ op: 'create', items }) })).status).toBe(200);
    await page.goto(`${server.url}/data/events`);
    await expect.poll(async () => page.getByTestId('loaded-count').textContent()).toBe('50 loaded');
    const grid = page.getByTestId('virtual-table');
    // Each look scrolls to the bottom again, as a reader would keep scrolling.
    await expect
      .poll(async () => {
        await grid.evaluate((el) => el.scrollTo(0, el.scrollHeight));
        return Number((await page.getByTestId('loaded-count').textContent())!.split(' ')[0]);
      })
      .toBeGreaterThanOrEqual(150);
    // However many are loaded, only a window of rows is in the page.
    expect(await grid.locator('tbody tr:not([aria-hidden])').count()).toBeLessThan(80);
    await shot('34-virtual-grid');
  }, 120_000);

  it('reaches every sidebar page in at most two clicks from anywhere, each free of serious accessibility problems', async () => {
    const links = await nav().getByRole('link').allTextContents();
    expect(links).toEqual([
      'Dashboard',
      'Data',
      'Flows',
      'Agents',
      'Actions',
      'Executions',
      'Vault',
      'API keys',
      'Webhooks',
      'Members',
      'Usage',
      'Logs',
      'Audit',
      'Settings',
    ]);
    const problems: Record<string, string[]> = {};
    // From a deep page (an agent's playground) each entry is one click; its main feature one more.
    const second: Record<string, string | null> = { Data: 'Relationships', Flows: null, Agents: 'Helper', Actions: 'New action' };
    for (const link of links) {
      await page.goto(`${server.url}/agents`);
      await page.getByRole('link', { name: 'Helper' }).click();
      await page.getByRole('heading', { name: 'Helper' }).waitFor();
      await nav().getByRole('link', { name: link }).click(); // click 1
      await page.locator('main h1').first().waitFor();
      await page.waitForLoadState('networkidle');
      const v = await axeViolations(page);
      if (v.length) problems[link] = v;
      const next = second[link];
      if (next) {
        await page.getByRole('link', { name: next }).first().click(); // click 2
        await page.locator('main h1').first().waitFor();
        // The diagram's cards (links) and zoom controls render a moment after the heading: check them too.
        if (next === 'Relationships') await page.locator('.react-flow__node').first().waitFor();
        await page.waitForLoadState('networkidle');
        const v2 = await axeViolations(page);
        if (v2.length) problems[`${link} → ${next}`] = v2;
      }
    }
    // The dark theme too, on the main screens (contrast is checked per theme).
    await page.goto(`${server.url}/dashboard`);
    await page.getByRole('button', { name: 'Dark theme' }).click();
    for (const link of ['Dashboard', 'Data', 'Flows', 'Agents', 'Usage', 'Settings']) {
      await nav().getByRole('link', { name: link }).click();
      await page.locator('main h1').first().waitFor();
      await page.waitForLoadState('networkidle');
      const v = await axeViolations(page);
      if (v.length) problems[`${link} (dark)`] = v;
    }
    await page.getByRole('button', { name: 'Light theme' }).click();

    // The flow canvas and the command palette too.
    await page.goto(`${server.url}/flows`);
    await page.getByRole('link', { name: 'Lookup', exact: true }).click();
    await page.getByTestId('node-In').waitFor();
    const canvas = await axeViolations(page);
    if (canvas.length) problems['flow canvas'] = canvas;
    await page.keyboard.press('Control+k');
    await page.getByLabel('Go to').fill('helper');
    await shot('32-command-palette');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Helper' }).waitFor();
    expect(problems).toEqual({});
  }, 180_000);
});
