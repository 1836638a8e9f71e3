/**
 * The flow canvas as a person uses it, in Debian's chromium: start a flow from a template, drag
 * nodes from the palette, connect their ports (a forbidden connection is refused with a reason),
 * fill the generated parameter forms, watch the run node by node, undo and redo, restore a version,
 * publish the flow and call its endpoint.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, SHOTS, accessToken, browser, signUp } from './browser.js';
import { type RunningServer, e2eEnv, startServer } from './server-process.js';

/** Drags from one port to another with the mouse, as a person draws an edge. */
async function connect(page: Page, from: Locator, to: Locator) {
  const a = (await from.boundingBox())!;
  const b = (await to.boundingBox())!;
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
  await page.mouse.up();
}

const node = (page: Page, name: string) => page.getByTestId(`node-${name}`);
const port = (page: Page, name: string, kind: 'source' | 'target', handle = 'main') =>
  node(page, name).locator(`.react-flow__handle.${kind}[data-handleid="${handle}"]`);

describe.runIf(existsSync(CHROMIUM))('flow canvas in chromium', () => {
  let server: RunningServer;
  let context: BrowserContext;
  let page: Page;
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startServer([], { ...(await e2eEnv('pglite', 'ui-flows')), INFINITY_DEFAULT_PLAN: 'enterprise' });
    context = await browser({ width: 1600, height: 900 });
    page = context.pages()[0] ?? (await context.newPage());
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await server?.stop();
  });

  it('builds a flow by dragging and connecting nodes, runs it and reads each node’s output, then publishes and calls it', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await signUp(page, server.url, { name: 'Flo Builder', email: 'flo@example.com', password: 'flows all the way' });

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Flows' }).click();
    await page.getByLabel('Start from').selectOption('blank');
    await page.getByRole('button', { name: 'New flow' }).click();
    await node(page, 'Start').waitFor();
    await page.getByLabel('Flow name').fill('Greeter');

    // Drag two nodes from the palette onto the canvas.
    const canvas = page.getByTestId('canvas');
    const box = (await canvas.boundingBox())!;
    await page.getByTestId('palette-core.set').dragTo(canvas, { targetPosition: { x: box.width / 2 - 150, y: box.height / 2 + 110 } });
    await node(page, 'Set fields').waitFor();
    await page.getByTestId('palette-core.output').dragTo(canvas, { targetPosition: { x: box.width / 2 + 60, y: box.height / 2 + 200 } });
    await node(page, 'Output').waitFor();

    // The Set node's form comes from its JSON Schema: a JSON box for values, a checkbox for keepInput.
    await node(page, 'Set fields').click();
    const values = page.getByLabel('Values');
    await values.fill('{"greeting": "Hello {{ $input.name }}"}');
    await page.getByRole('checkbox', { name: 'Keep Input' }).waitFor();

    // Connect Start → Set → Output by dragging between ports.
    await connect(page, port(page, 'Start', 'source'), port(page, 'Set fields', 'target'));
    await connect(page, port(page, 'Set fields', 'source'), port(page, 'Output', 'target'));
    await expect.poll(async () => page.locator('.react-flow__edge').count()).toBe(2);
    // Into a trigger is refused, with the reason.
    await connect(page, port(page, 'Output', 'source'), node(page, 'Start'));
    await expect.poll(async () => page.locator('.react-flow__edge').count()).toBe(2);

    await expect.poll(async () => page.getByTestId('save-state').textContent()).toMatch(/^Saved · v\d+/);
    await shot('20-canvas-built');

    // Run with an input: each node gets a status, and a node's own input and output are one click away.
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByLabel('Input (JSON)').fill('{"name": "Ada"}');
    await page.getByRole('button', { name: 'Run flow' }).click();
    await expect.poll(async () => page.getByTestId('run-status').textContent()).toBe('succeeded');
    expect(await page.getByTestId('run-output').textContent()).toContain('Hello Ada');
    for (const n of ['Start', 'Set fields', 'Output']) expect(await node(page, n).getAttribute('data-status')).toBe('succeeded');
    await node(page, 'Set fields').click();
    await expect.poll(async () => page.getByTestId('node-output').textContent()).toContain('"greeting": "Hello Ada"');
    await shot('21-run-node-output');

    // A required parameter left empty is marked on its node after the save is refused.
    await page.getByTestId('palette-core.transform').click();
    await node(page, 'Transform').waitFor();
    await expect.poll(async () => page.getByTestId('save-state').textContent()).toMatch(/Not saved: 1 problem/);
    expect(await node(page, 'Transform').getByTestId('node-problems').textContent()).toMatch(/expression/i);
    await shot('22-problem-on-node');
    // Undo removes it, redo brings it back, undo again; the graph saves again.
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(async () => node(page, 'Transform').count()).toBe(0);
    await page.getByRole('button', { name: 'Redo' }).click();
    await node(page, 'Transform').waitFor();
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(async () => page.getByTestId('save-state').textContent()).toMatch(/^Saved · v\d+/);

    // Flow settings are saved with the graph.
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    await page.getByLabel('Keep executions for (days)').fill('7');
    await expect.poll(async () => page.getByTestId('save-state').textContent()).toMatch(/^Saved · v\d+/);
    const flowId = page.url().split('/').pop()!;
    const token = await accessToken(page);
    await expect
      .poll(
        async () =>
          (
            (await (await fetch(`${server.url}/api/v1/flows/${flowId}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
              data: { settings: { retentionDays?: number } };
            }
          ).data.settings.retentionDays,
      )
      .toBe(7);

    // Publish (owners may make it public) and call the endpoint as a consumer would.
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.getByLabel('Slug').fill('greeter');
    await page.getByLabel('Access').selectOption('public');
    await page.getByRole('button', { name: 'Publish', exact: true }).last().click();
    await page.getByTestId('endpoint').waitFor();
    const snippet = (await page.getByTestId('widget-snippet').textContent())!;
    expect(snippet).toContain('data-slug="greeter"');
    await shot('23-published');
    const res = await fetch(`${server.url}/api/v1/run/greeter`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Grace' }),
    });
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toContain('Hello Grace');

    // The widget snippet on another site's page (another origin) talks to the published flow.
    const site = createServer((_, res) =>
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(`<!doctype html><title>Shop</title><h1>Shop</h1>${snippet.replace(/https?:\/\/[^/]+/, server.url)}`),
    );
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    try {
      const shop = await context.newPage();
      await shop.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
      await shop.getByLabel('Message').fill('Hi there');
      await shop.getByRole('button', { name: 'Send' }).click();
      // The flow keeps its input, so the reply is the output's "message" field: the visitor's own words.
      await shop.locator('infinity-widget .bot').filter({ hasText: 'Hi there' }).waitFor();
      await shop.screenshot({ path: path.join(SHOTS, '23b-widget.png') });
      await shop.close();
    } finally {
      site.close();
    }
    // Only published runs answer any origin; the rest of the API does not.
    const foreign = await fetch(`${server.url}/api/v1/flows`, { headers: { origin: 'http://evil.example' } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();

    // Versions: restoring version 1 brings back the lone Start node.
    await page.getByRole('button', { name: 'Versions' }).click();
    await page.getByRole('button', { name: 'Restore version 1' }).click();
    await expect.poll(async () => page.locator('.react-flow__node').count()).toBe(1);
    await shot('24-restored');
    expect(errors).toEqual([]);
  }, 120_000);

  // Regression (issue #25): a stale save overwrote the newer version silently, and reopening a flow
  // in the same session showed the copy cached at the first visit, which the next drag then saved.
  it('two editors of one flow: the stale save shows the conflict and changes nothing; reopening shows the newest version', async () => {
    const token = await accessToken(page);
    const api = async (method: string, url: string, body?: unknown) => {
      const r = await fetch(`${server.url}/api/v1${url}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return (await r.json()) as { data: { id: string; version: number; nodes: { name: string }[] } };
    };
    const created = await api('POST', '/flows', {
      name: 'Shared',
      nodes: [{ id: 'start', type: 'trigger.manual', name: 'Start', position: { x: 0, y: 0 }, params: {} }],
      edges: [],
    });
    const id = created.data.id;
    const names = async () => (await api('GET', `/flows/${id}`)).data.nodes.map((n) => n.name).sort();
    const saveState = (p: Page) => p.getByTestId('save-state').textContent();

    // Editor A (this session) visits the flow once, then goes back to the list: the flow stays in its cache.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Flows' }).click();
    await page.getByRole('link', { name: 'Shared', exact: true }).click();
    await node(page, 'Start').waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Flows' }).click();

    // Editor B: another browser, same account, opens the same flow and adds a node: version 2.
    const other = await browser({ width: 1600, height: 900 });
    try {
      const b = other.pages()[0] ?? (await other.newPage());
      await b.goto(`${server.url}/signin`);
      await b.getByLabel('Email').fill('flo@example.com');
      await b.getByLabel('Password').fill('flows all the way');
      await b.getByRole('button', { name: 'Sign in' }).click();
      await b.getByRole('heading', { name: 'Data' }).waitFor();
      await b.goto(`${server.url}/flows/${id}`);
      await node(b, 'Start').waitFor();
      await b.getByTestId('palette-core.output').click();
      await expect.poll(() => saveState(b)).toBe('Saved · v2');

      // A reopens the flow from the list (same session, no page load): it shows version 2, not its cached version 1.
      await page.getByRole('link', { name: 'Shared', exact: true }).click();
      await node(page, 'Output').waitFor();
      expect(await saveState(page)).toBe('Saved · v2');

      // A saves version 3; B, still on version 2, saves: refused, shown as a conflict, nothing overwritten.
      await page.getByTestId('palette-core.noop').click();
      await expect.poll(() => saveState(page)).toBe('Saved · v3');
      await b.getByTestId('palette-core.merge').click();
      await b.getByTestId('save-conflict').waitFor();
      expect(await b.getByTestId('save-conflict').textContent()).toMatch(/changed by someone else.*version 3/);
      expect(await saveState(b)).toBe('Not saved: changed elsewhere');
      await b.screenshot({ path: path.join(SHOTS, '25-save-conflict.png') });
      expect(await names()).toEqual(['No operation', 'Output', 'Start']);
      expect((await api('GET', `/flows/${id}`)).data.version).toBe(3);
      // B stops saving while in conflict: another edit does not reach the server either.
      await b.getByTestId('palette-core.output').click();
      await expect.poll(() => saveState(b)).toBe('Not saved: changed elsewhere');

      // Reload shows A's version 3 in B; a change there then saves as version 4 on top of it.
      await b.getByRole('button', { name: 'Reload their version' }).click();
      await node(b, 'No operation').waitFor();
      expect(await node(b, 'Merge').count()).toBe(0);
      expect(await b.getByTestId('save-conflict').count()).toBe(0);
      expect(await saveState(b)).toBe('Saved · v3');
      await b.getByTestId('palette-core.merge').click();
      await expect.poll(() => saveState(b)).toBe('Saved · v4');
      expect(await names()).toEqual(['Merge', 'No operation', 'Output', 'Start']);

      // A is now the stale one: its next edit conflicts; "Overwrite with mine" makes its graph current on purpose.
      await page.getByTestId('palette-core.output').click();
      await page.getByTestId('save-conflict').waitFor();
      await page.getByRole('button', { name: 'Overwrite with mine' }).click();
      await expect.poll(() => saveState(page)).toBe('Saved · v5');
      expect(await names()).toEqual(['No operation', 'Output', 'Output 2', 'Start']);
    } finally {
      await other.close();
    }
  }, 120_000);
});
