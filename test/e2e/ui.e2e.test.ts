/**
 * The web UI as a person uses it: the real server (embedded database) serving the built UI, driven
 * in Debian's chromium through playwright-core by clicking and typing. Screenshots of each step go
 * to .test-data/screenshots.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, SHOTS, accessToken, axeViolations, browser, signUp } from './browser.js';
import { testBackends } from '../../apps/server/src/platform/testing/backends.js';
import { type RunningServer, e2eEnv, startServer } from './server-process.js';

describe.runIf(existsSync(CHROMIUM))('web UI in chromium', () => {
  let server: RunningServer;
  let context: BrowserContext;
  let page: Page;
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startServer([], { ...(await e2eEnv('pglite', 'ui')), INFINITY_DEFAULT_PLAN: 'enterprise' });
    context = await browser({ width: 1280, height: 800 });
    page = context.pages()[0] ?? (await context.newPage());
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await server?.stop();
  });

  it('sign up, create a model, add and find records with per-field errors, reach every sidebar page, stay signed in across a reload', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.getByRole('heading', { name: 'Sign in to Infinity' }).waitFor();
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Name').fill('Ada Lovelace');
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill('analytical engine');
    await shot('01-signup');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Data' }).waitFor();

    await page.getByRole('link', { name: 'New model' }).click();
    await page.getByLabel('Model name').fill('customers');
    await page.getByLabel('Field 1 name').fill('name');
    await page.getByRole('checkbox', { name: 'Required' }).first().check();
    await page.getByRole('button', { name: 'Add field' }).click();
    await page.getByLabel('Field 2 name').fill('tier');
    await page.getByLabel('Field 2 type').selectOption('enum');
    await page.getByLabel('Values').fill('gold, silver');
    await shot('02-model-designer');
    await page.getByRole('button', { name: 'Create model' }).click();
    await page.getByRole('heading', { name: 'customers' }).waitFor();

    // A required field left empty: the server's message appears under that field, nothing is added.
    await page.getByLabel('tier', { exact: true }).selectOption('gold');
    await page.getByRole('button', { name: 'Add record' }).click();
    await page
      .getByText(/required/i)
      .first()
      .waitFor();
    await shot('03-field-error');
    await page.getByLabel('name *').fill('Ada');
    await page.getByRole('button', { name: 'Add record' }).click();
    await page.getByRole('cell', { name: 'Ada', exact: true }).waitFor();
    await shot('03b-first-record');
    expect(await page.getByRole('row').count()).toBe(2);
    await page.getByLabel('name *').fill('Grace');
    await page.getByLabel('tier', { exact: true }).selectOption('silver');
    await page.getByRole('button', { name: 'Add record' }).click();
    await page.getByRole('cell', { name: 'Grace', exact: true }).waitFor();
    expect(await page.getByRole('row').count()).toBe(3);
    await page.getByLabel('Search').fill('Grace');
    await expect.poll(async () => page.getByRole('cell', { name: 'Ada', exact: true }).count()).toBe(0);
    await shot('04-records');
    // Columns can be hidden and shown again.
    await page.getByText('Columns', { exact: true }).click();
    await page.getByLabel('Show column tier').uncheck();
    await expect.poll(async () => page.getByRole('columnheader', { name: /^tier/ }).count()).toBe(0);
    await page.getByLabel('Show column tier').check();
    await page.getByRole('columnheader', { name: /^tier/ }).waitFor();
    await page.getByLabel('Search').fill('');

    // Filter builder: tier is gold → only Ada.
    await page.getByRole('button', { name: /^Filter/ }).click();
    await page.getByRole('button', { name: 'Add condition' }).click();
    await page.getByLabel('Condition 1 field').selectOption('tier');
    await page.getByLabel('Condition 1 value').selectOption('gold');
    await expect.poll(async () => page.getByRole('cell', { name: 'Grace', exact: true }).count()).toBe(0);
    await page.getByRole('cell', { name: 'Ada', exact: true }).waitFor();
    await shot('04b-filter');
    await page.getByRole('button', { name: 'Remove condition 1' }).click();
    await page.getByRole('cell', { name: 'Grace', exact: true }).waitFor();

    // Inline edit with a per-field error, then a good value.
    await page.getByRole('cell', { name: 'Grace', exact: true }).getByText('Grace').dblclick();
    await page.getByLabel('name (editing)').fill('');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(async () => page.getByLabel('name (editing)').getAttribute('aria-invalid')).toBe('true');
    await shot('04c-inline-error');
    await page.getByLabel('name (editing)').fill('Grace Hopper');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('cell', { name: 'Grace Hopper', exact: true }).waitFor();

    // Export honours the grid; import a CSV with one bad row and read the report.
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    expect(readFileSync(await csv.path(), 'utf8')).toContain('Grace Hopper');
    await page.getByRole('button', { name: 'Import' }).click();
    await page
      .getByLabel(/^File/)
      .setInputFiles({ name: 'more.csv', mimeType: 'text/csv', buffer: Buffer.from('name,tier\nLinus,silver\n,gold\nBarbara,gold\n') });
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect.poll(async () => page.getByTestId('import-report').textContent()).toBe('3 row(s): 2 inserted, 0 updated, 1 rejected.');
    await page.getByRole('cell', { name: 'Barbara', exact: true }).waitFor();
    await shot('04d-import');

    // Bulk delete two records.
    await page.getByRole('row', { name: /Linus/ }).getByRole('checkbox').check();
    await page
      .getByRole('row', { name: /Barbara/ })
      .getByRole('checkbox')
      .check();
    await page.getByRole('button', { name: 'Delete selected (2)' }).click();
    // A confirmation first, saying what else goes (here nothing points at them yet).
    const confirmBulk = page.getByRole('dialog', { name: 'Delete 2 records of customers?' });
    await confirmBulk.getByText('No other records point at them.').waitFor();
    await confirmBulk.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(async () => page.getByRole('cell', { name: 'Linus', exact: true }).count()).toBe(0);

    // A second model with a relation to the first, seen on the relationship diagram.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Data' }).click();
    await page.getByRole('link', { name: 'New model' }).click();
    await page.getByLabel('Model name').fill('orders');
    await page.getByLabel('Field 1 name').fill('total');
    await page.getByLabel('Field 1 type').selectOption('number');
    await page.getByRole('button', { name: 'Add field' }).click();
    await page.getByLabel('Field 2 name').fill('customer');
    await page.getByLabel('Field 2 type').selectOption('relation');
    await page.getByLabel('Field 2 target').selectOption('customers');
    await page.getByLabel('Field 2 on delete').selectOption('cascade');
    await page.getByRole('button', { name: 'Create model' }).click();
    await page.getByRole('heading', { name: 'orders' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Data' }).click();
    await page.getByRole('link', { name: 'Relationships' }).click();
    await page.getByTestId('model-orders').waitFor();
    await page.getByText('customer (n:1, on delete cascade)').waitFor();
    await shot('04e-diagram');

    // A record related to a customer, chosen by name; the grid shows the related record expanded.
    await page.getByRole('link', { name: 'orders' }).click();
    await page.getByLabel('total', { exact: true }).fill('12.5');
    await page.getByLabel('customer', { exact: true }).selectOption({ label: 'Ada' });
    await page.getByRole('button', { name: 'Add record' }).click();
    await page.getByRole('cell', { name: 'Ada', exact: true }).waitFor();

    // Deleting Ada would cascade to her order: the confirmation names it; cancelling keeps both.
    await page.goto(`${server.url}/data/customers`);
    await page
      .getByRole('row', { name: /Ada/ })
      .getByRole('button', { name: /^Delete record / })
      .click();
    const confirmOne = page.getByRole('dialog', { name: 'Delete this record of customers?' });
    await confirmOne.getByRole('list', { name: 'Also deleted' }).getByText('1 record of orders (through orders.customer, on delete: cascade)').waitFor();
    await confirmOne.getByText('This cannot be undone.').waitFor();
    await shot('04h-delete-impact');
    await confirmOne.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(async () => page.getByRole('dialog').count()).toBe(0);
    await page.getByRole('cell', { name: 'Ada', exact: true }).waitFor();
    await page.goto(`${server.url}/data/orders`);
    await page.getByRole('cell', { name: 'Ada', exact: true }).waitFor();

    // Names as people type them: "Support Tickets" and "First Name" become identifiers, the text stays as labels.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Data' }).click();
    await page.getByRole('link', { name: 'New model' }).click();
    await page.getByLabel('Model name').fill('Support Tickets');
    await page.getByText('Saved as support_tickets, labelled “Support Tickets”.').waitFor();
    await page.getByLabel('Field 1 name').fill('First Name');
    await page.getByText('Saved as first_name, labelled “First Name”.').waitFor();
    await shot('04i-typed-names');
    await page.getByRole('button', { name: 'Create model' }).click();
    await page.getByRole('heading', { name: 'Support Tickets' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/data/support_tickets');
    await page.getByLabel('First Name', { exact: true }).fill('Katherine');
    await page.getByRole('button', { name: 'Add record' }).click();
    await page.getByRole('cell', { name: 'Katherine', exact: true }).waitFor();
    await page.getByRole('columnheader', { name: /^First Name/ }).waitFor();
    await shot('04j-typed-names-records');

    // Schema changes from the model's page: add a field, rename it.
    await page.goto(`${server.url}/data/customers?tab=schema`);
    await page.getByLabel('New field name').fill('note');
    await page.getByRole('button', { name: 'Add field' }).click();
    await page.getByRole('cell', { name: 'note', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Rename field note' }).click();
    await page.getByLabel('New name for note').fill('remark');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('cell', { name: 'remark', exact: true }).waitFor();
    await shot('04g-schema');

    // Embeddings on the customers model (offline provider): the back-fill completes, then similarity search.
    await page.goto(`${server.url}/data/customers?tab=embeddings`);
    await page.getByRole('button', { name: 'Turn on embeddings' }).click();
    await expect.poll(async () => page.getByTestId('embedding-progress').textContent(), { timeout: 60_000 }).toBe('2 of 2 embedded');
    await page.getByLabel('Find similar records').fill('Grace Hopper');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('region', { name: 'Search results' }).getByRole('cell', { name: 'Grace Hopper', exact: true }).waitFor();
    await shot('04f-embeddings-search');
    // After 64 searches the server measures the search width the model needs; the panel shows it.
    const searcher = await accessToken(page);
    for (let i = 0; i < 64; i++) {
      const r = await fetch(`${server.url}/api/v1/data/customers/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${searcher}` },
        body: JSON.stringify({ query: `customer ${i}`, k: 2 }),
      });
      expect(r.status).toBe(200);
    }
    // The measurement runs in the background: wait for it through the API (reloading the page
    // until it shows could outrun a page load on a loaded machine), then the panel must show it.
    const measured = async () => {
      const r = await fetch(`${server.url}/api/v1/models/customers/embeddings`, { headers: { authorization: `Bearer ${searcher}` } });
      return ((await r.json()) as { data: { search: { plain: { width?: number } | null } } }).data.search.plain?.width;
    };
    await expect.poll(measured, { timeout: 60_000, message: 'the search width was not measured after 64 searches' }).toBeGreaterThan(0);
    await page.goto(`${server.url}/data/customers?tab=embeddings`);
    await page.getByTestId('search-widths').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('search-widths').textContent()).toMatch(
      /^Search width \d+.*recall@k [\d.]+ on 64 searches · with a filter 450 \(the default; measured after 64 searches\)$/,
    );
    await shot('04f-embeddings-search-width');
    await page.getByRole('link', { name: 'Versions' }).click();
    await page.getByRole('cell', { name: 'v2' }).waitFor();
    await page.getByRole('link', { name: 'Records', exact: true }).click();

    // Every sidebar entry is one click away and renders its page.
    // Each with what proves it loaded: the plan's bars, the key form, an audit entry, the model.
    for (const [link, heading, ready] of [
      ['Dashboard', 'Dashboard', 'Error rate'],
      ['Usage', 'Usage', 'Plan:'],
      ['Logs', 'Logs', 'Request id'],
      ['Flows', 'Flows', 'No flows yet'],
      ['Executions', 'Executions', 'Status'],
      ['API keys', 'API keys', 'Create key'],
      ['Audit', 'Audit log', 'MODEL_CREATE'],
      ['Members', 'Members', 'ada@example.com'],
      ['Vault', 'Vault', 'Store secret'],
      ['Data', 'Data', 'customers'],
    ] as const) {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      await page.getByText(ready).first().waitFor();
      await shot(`05-${link.toLowerCase().replace(' ', '-')}`);
    }
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Usage' }).click();
    await expect.poll(async () => page.getByRole('progressbar').count()).toBe(0);
    await page.getByText('unlimited').first().waitFor();

    // Flows: one made through the API (as n8n or a developer would), run from the list, traced node by node.
    const login = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ada@example.com', password: 'analytical engine' }),
    });
    const token = ((await login.json()) as { data: { accessToken: string } }).data.accessToken;
    const made = await fetch(`${server.url}/api/v1/flows?template=blank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'Hello flow' }),
    });
    expect(made.status).toBe(201);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Flows' }).click();
    await page.getByRole('button', { name: 'Run Hello flow' }).click();
    await page.getByText('Run succeeded.').waitFor();
    await page.getByRole('link', { name: 'Executions of Hello flow' }).click();
    await page.getByRole('heading', { name: 'Executions' }).waitFor();
    await page
      .getByRole('button', { name: /^Trace of / })
      .first()
      .click();
    await page.getByRole('heading', { name: /Trace · succeeded/ }).waitFor();
    expect(await page.locator('details').count()).toBeGreaterThan(0);
    await shot('05b-trace');
    await page.locator('details summary').first().click();
    await page
      .getByRole('button', { name: /^Re-run from / })
      .first()
      .click();
    await page.getByText('Re-run succeeded.').waitFor();

    // The vault takes a value and never shows it again.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vault' }).click();
    await page.getByLabel('Secret name').fill('OpenAI');
    await page.getByLabel('Value', { exact: true }).fill('sk-ui-test-secret-value-9876');
    await page.getByRole('button', { name: 'Store secret' }).click();
    await page.getByRole('cell', { name: 'OpenAI', exact: true }).waitFor();
    expect(await page.content()).not.toContain('sk-ui-test-secret-value-9876');
    // Where it may be sent: the provider's host by default; an admin edits the list in place.
    await page.getByText('api.openai.com', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Edit allowed hosts of OpenAI' }).click();
    await page.getByRole('form', { name: 'Allowed hosts of OpenAI' }).getByLabel('Allowed hosts').fill('api.openai.com, *.openai.azure.com');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('api.openai.com, *.openai.azure.com', { exact: true }).waitFor();
    await shot('06-vault');

    // Invite a viewer: the link is shown once; the viewer joins in their own browser and sees a read-only UI.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Members' }).click();
    await page.getByLabel('Email').fill('viewer@example.com');
    await page.getByLabel('Role').selectOption('viewer');
    await page.getByRole('button', { name: 'Invite' }).click();
    const link = (await page.getByTestId('shown-once').textContent())!.trim().replace(/^https?:\/\/[^/]+/, server.url);
    await shot('07-invitation');
    const viewerContext = await browser({ width: 390, height: 844 });
    try {
      const v = viewerContext.pages()[0] ?? (await viewerContext.newPage());
      await v.goto(link);
      await v.getByRole('link', { name: 'create an account' }).click();
      await v.getByLabel('Name').fill('Vera Viewer');
      await v.getByLabel('Email').fill('viewer@example.com');
      await v.getByLabel('Password').fill('viewer password 1');
      await v.getByRole('button', { name: 'Create account' }).click();
      await v.getByRole('button', { name: 'Accept invitation' }).click();
      await v.getByRole('heading', { name: 'Data' }).waitFor();
      await v.getByText('customers').first().waitFor();
      expect(await v.getByRole('link', { name: 'New model' }).count()).toBe(0);
      const nav = v.getByRole('navigation', { name: 'Main' });
      expect(await nav.getByRole('link').allTextContents()).toEqual([
        'Dashboard',
        'Data',
        'Flows',
        'Agents',
        'Actions',
        'Executions',
        'Members',
        'Usage',
        'Settings',
      ]);
      await v.getByText('customers').first().click();
      await v.getByRole('cell', { name: 'Grace Hopper', exact: true }).waitFor();
      expect(await v.getByRole('button', { name: 'Add record' }).count()).toBe(0);
      expect(await v.getByRole('button', { name: /^Delete/ }).count()).toBe(0);
      await v.screenshot({ path: path.join(SHOTS, '08-viewer-phone.png'), fullPage: true });
    } finally {
      await viewerContext.close();
    }

    // A deep link reloads into the same page (single-page app fallback, session from the refresh cookie).
    await page.goto(`${server.url}/data/customers`);
    await page.getByRole('cell', { name: 'Grace Hopper', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Infinity' }).waitFor();
    expect(errors).toEqual([]);
  }, 120_000);

  it('serves hashed assets for a year and the page itself fresh; API paths stay JSON', async () => {
    const html = await fetch(`${server.url}/`);
    expect(html.headers.get('cache-control')).toBe('no-cache');
    const asset = /\/assets\/index-[\w-]+\.js/.exec(await html.text())![0];
    const js = await fetch(`${server.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    // The build's manifest stays private (dot folders are not served).
    expect((await fetch(`${server.url}/.vite/manifest.json`)).status).toBe(404);
    const api = await fetch(`${server.url}/api/v1/nothing`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('ROUTE_NOT_FOUND');
  });
});

// The API keys screen on each database (the keys live in it): its own server per database.
for (const backend of testBackends()) {
  describe.runIf(existsSync(CHROMIUM))(`API keys screen in chromium [${backend}]`, () => {
    let keysServer: RunningServer;
    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      keysServer = await startServer([], await e2eEnv(backend, 'ui-keys'));
    }, 120_000);
    afterAll(async () => {
      await keysServer?.stop();
    });

    it('a new key shows ready-to-paste integration snippets once; a copied snippet works; Done forgets the key', async () => {
      const keysContext = await browser({ width: 1280, height: 800 });
      try {
        await keysContext.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: keysServer.url });
        const p = keysContext.pages()[0] ?? (await keysContext.newPage());
        // In the page (the test files compile without the DOM library): what the clipboard holds, what the browser stores.
        type InPage = { navigator: { clipboard: { readText(): Promise<string> } }; localStorage: object; sessionStorage: object; document: { cookie: string } };
        const clipboard = () => p.evaluate(() => (globalThis as unknown as InPage).navigator.clipboard.readText());
        const errors: string[] = [];
        p.on('pageerror', (e) => errors.push(e.message));
        await signUp(p, keysServer.url, { name: 'Kim Keys', email: 'kim@example.com', password: 'keys to the kingdom' });
        await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
        const form = p.getByRole('form', { name: 'New API key' });
        await form.getByLabel('Name').fill('n8n');
        await form.getByLabel('Role').selectOption('admin');
        await form.getByLabel('Kind').selectOption('service');
        await form.getByRole('button', { name: 'Create key' }).click();
        const reveal = p.getByRole('region', { name: /^Key “n8n” \(admin\) created/ });
        const key = (await reveal.getByTestId('shown-once').textContent())!;
        expect(key).toMatch(/^inf_/);
        expect(await reveal.getByTestId('snippet-n8n-api-key').textContent()).toBe(key);
        expect(await reveal.getByTestId('snippet-n8n-base-url').textContent()).toBe(keysServer.url);

        await reveal.getByRole('tab', { name: 'MCP clients' }).click();
        const claudeCode = `claude mcp add --transport http infinity ${keysServer.url}/api/v1/mcp \\\n  --header "X-API-Key: ${key}"`;
        expect(await reveal.getByTestId('snippet-claude-code').textContent()).toBe(claudeCode);
        expect(await axeViolations(p)).toEqual([]);
        // The new key's view alone (before any copy: no toast over it).
        await reveal.screenshot({ path: path.join(SHOTS, `09-api-key-snippets-${backend}.png`) });
        // The docs' picture: written when missing, or on purpose with INFINITY_DOCS_SCREENSHOTS=1 (the
        // key and port change every run, so rewriting it each run would only churn the repository).
        const doc = path.resolve(import.meta.dirname, '../../docs/integrations/img/api-key-snippets.png');
        if (backend === testBackends()[0] && (!existsSync(doc) || process.env.INFINITY_DOCS_SCREENSHOTS === '1')) {
          mkdirSync(path.dirname(doc), { recursive: true });
          copyFileSync(path.join(SHOTS, `09-api-key-snippets-${backend}.png`), doc);
        }

        await reveal.getByRole('button', { name: 'Copy Claude Code' }).click();
        await p.getByText('Copied Claude Code.').waitFor();
        expect(await clipboard()).toBe(claudeCode);
        // The curl snippet, copied and run as written (its header and URL), answers for the new key.
        await reveal.getByRole('tab', { name: 'curl' }).click();
        await reveal.getByRole('button', { name: 'Copy curl' }).click();
        await p.getByText('Copied curl.').waitFor();
        const curl = await clipboard();
        const [, header, url] = /^curl -H "X-API-Key: (\S+)" (\S+)$/.exec(curl)!;
        const me = await fetch(url!, { headers: { 'x-api-key': header! } });
        expect(me.status).toBe(200);
        expect(((await me.json()) as { data: { kind: string; role: string; apiKey: { name: string; kind: string } } }).data).toMatchObject({
          kind: 'apiKey',
          role: 'admin',
          apiKey: { name: 'n8n', kind: 'service' },
        });

        // Done: the key is nowhere on the page nor in the browser's storage; the snippets show a placeholder.
        await reveal.getByRole('button', { name: 'Done' }).click();
        await p.getByText('Connect n8n, Zapier, Make, an MCP client or curl').click();
        expect(await p.getByTestId('snippet-n8n-api-key').textContent()).toBe('YOUR_API_KEY');
        expect(await p.content()).not.toContain(key);
        const stored = await p.evaluate(() => {
          const w = globalThis as unknown as InPage;
          return JSON.stringify([{ ...w.localStorage }, { ...w.sessionStorage }, w.document.cookie]);
        });
        expect(stored).not.toContain(key);
        expect(await axeViolations(p)).toEqual([]);
        await p.screenshot({ path: path.join(SHOTS, `09b-api-key-snippets-placeholder-${backend}.png`), fullPage: true });
        // Contrast is checked per theme.
        await p.getByRole('button', { name: 'Dark theme' }).click();
        await p.getByRole('tab', { name: 'MCP clients' }).click();
        expect(await axeViolations(p)).toEqual([]);
        await p.screenshot({ path: path.join(SHOTS, `09c-api-key-snippets-dark-${backend}.png`), fullPage: true });
        expect(errors).toEqual([]);
      } finally {
        await keysContext.close();
      }
    }, 120_000);
  });
}
