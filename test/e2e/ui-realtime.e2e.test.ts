/**
 * The UI listens (issue #27), in Debian's chromium against the real server process: two people on
 * the same records grid see each other's changes; a run in the flow editor shows node states as
 * they happen; the executions list, the unread count and the dashboard update themselves — and
 * after their first load none of these screens asks the server for a list or a status again
 * (every request is counted). Then the Webhooks screen: create (the secret shown once), a
 * loopback receiver gets the signed test delivery, the log shows it, redeliver sends it again.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../apps/server/src/platform/testing/backends.js';
import { CHROMIUM, SHOTS, accessToken, axeViolations, browser, signUp } from './browser.js';
import { type RunningServer, e2eEnv, startServer, until } from './server-process.js';

type Json = Record<string, any>;

/** Requests that read a list or a status: what polling screens make over and over. */
const LIST_OR_STATUS = /^\/api\/v1\/(data\/[^/]+|executions(\/[^/]+)?|notifications|stats|webhooks\/[^/]+\/deliveries)$/;

/** Every GET for a list or a status the page makes from now on. */
function countReads(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (r.method() === 'GET' && LIST_OR_STATUS.test(u.pathname)) seen.push(`${u.pathname}${u.search}`);
  });
  return seen;
}

const node = (id: string, name: string, type: string, params: Json = {}, x = 0) => ({ id, name, type, position: { x, y: 0 }, params });
const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, sourceHandle: 'main', target, targetHandle: 'main' });

for (const backend of testBackends())
  describe.runIf(existsSync(CHROMIUM))(`the UI listens, in chromium [${backend}]`, () => {
    let server: RunningServer;
    let env: Record<string, string>;
    let a: BrowserContext;
    let b: BrowserContext;
    let pa: Page;
    let pb: Page;
    let ada: string;
    let receiverUrl: string;
    const errors: string[] = [];
    const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, body });
        res.statusCode = req.url === '/gone' ? 410 : 200;
        res.end(req.url === '/gone' ? 'gone for good' : 'thanks');
      });
    });
    const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}${backend === 'pglite' ? '' : `-${backend}`}.png`) });
    const call = async (method: string, url: string, body?: unknown, token = ada) => {
      const r = await fetch(`${server.url}${url}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await r.text();
      return { status: r.status, json: (text ? JSON.parse(text) : null) as Json };
    };
    const live = (page: Page) => page.locator('[data-testid="live-status"][data-status="live"]').waitFor();

    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
      env = { ...(await e2eEnv(backend, 'ui-realtime')), INFINITY_DEFAULT_PLAN: 'enterprise', INFINITY_HTTP_ALLOW: '127.0.0.1/32', INFINITY_QUEUE_POLL: '100' };
      server = await startServer([], env);
      a = await browser({ width: 1400, height: 860 });
      b = await browser({ width: 1400, height: 860 });
      pa = a.pages()[0] ?? (await a.newPage());
      pb = b.pages()[0] ?? (await b.newPage());
      pa.on('pageerror', (e) => errors.push(e.message));
      pb.on('pageerror', (e) => errors.push(e.message));
      await signUp(pa, server.url, { name: 'Ada Lovelace', email: 'ada@example.com', password: 'analytical engine' });
      ada = await accessToken(pa);
      expect(
        (
          await call('POST', '/api/v1/models', {
            name: 'orders',
            fields: [
              { name: 'name', type: 'string' },
              { name: 'total', type: 'number' },
            ],
          })
        ).status,
      ).toBe(201);
    }, 120_000);
    afterAll(async () => {
      await a?.close();
      await b?.close();
      await server?.stop();
      receiver.close();
    });

    it('two people on the same records grid see each other’s changes, with no list request after the first load', async () => {
      const org = (await call('GET', '/api/v1/me')).json.data.organization as { id: string };
      // Bob joins Ada's organization as an editor and signs in in his own browser.
      const bob = (await call('POST', '/api/v1/auth/signup', { name: 'Bob Babbage', email: 'bob@example.com', password: 'difference engine' }, '')).json.data;
      const invitation = (await call('POST', '/api/v1/invitations', { email: 'bob@example.com', role: 'editor' })).json.data;
      expect((await call('POST', `/api/v1/invitations/${invitation.token as string}/accept`, undefined, bob.accessToken as string)).status).toBe(200);
      await pb.goto(`${server.url}/signin`);
      await pb.getByLabel('Email').fill('bob@example.com');
      await pb.getByLabel('Password').fill('difference engine');
      await pb.getByRole('button', { name: 'Sign in' }).click();
      await pb.getByRole('heading', { name: 'Data' }).waitFor();
      // Switching organization closes the socket and opens one for the new organization.
      await pb.locator('aside select').selectOption(org.id);
      await pb.getByRole('heading', { name: 'Dashboard' }).waitFor();

      for (const p of [pa, pb]) {
        await p.goto(`${server.url}/data/orders`);
        await p.getByText('No records yet.').waitFor();
        await live(p);
      }
      const readsA = countReads(pa);
      const readsB = countReads(pb);

      await pa.getByLabel('name', { exact: true }).fill('Widget');
      await pa.getByLabel('total', { exact: true }).fill('5');
      await pa.getByRole('button', { name: 'Add record' }).click();
      await pb.getByRole('cell', { name: 'Widget', exact: true }).waitFor();

      await pb.getByLabel('name', { exact: true }).fill('Gadget');
      await pb.getByRole('button', { name: 'Add record' }).click();
      await pa.getByRole('cell', { name: 'Gadget', exact: true }).waitFor();
      // Newest first, in both.
      for (const p of [pa, pb]) expect(await p.getByRole('row').nth(1).textContent()).toContain('Gadget');

      await pa
        .getByRole('row', { name: /Gadget/ })
        .getByRole('button', { name: /^Edit record/ })
        .click();
      await pa.getByLabel('name (editing)').fill('Gadget Pro');
      await pa.getByRole('button', { name: 'Save', exact: true }).click();
      await pb.getByRole('cell', { name: 'Gadget Pro', exact: true }).waitFor();

      await pb
        .getByRole('row', { name: /Widget/ })
        .getByRole('button', { name: /^Delete record/ })
        .click();
      await pb.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
      await expect.poll(async () => pa.getByRole('cell', { name: 'Widget', exact: true }).count()).toBe(0);

      // A write through the API (an integration) shows up in both.
      expect((await call('POST', '/api/v1/data/orders', { name: 'Sprocket', total: 12 })).status).toBe(201);
      await pa.getByRole('cell', { name: 'Sprocket', exact: true }).waitFor();
      await pb.getByRole('cell', { name: 'Sprocket', exact: true }).waitFor();
      await shot(pa, 'rt-01-grid-ada');
      await shot(pb, 'rt-01-grid-bob');
      expect(readsA).toEqual([]);
      expect(readsB).toEqual([]);
      expect(errors).toEqual([]);
    });

    it('a new record the grid cannot place is offered, not inserted; after a server restart the grid reloads once and is live again', async () => {
      // A full-text search is on: the client cannot tell whether a new record matches it.
      await pa.getByLabel('Search').fill('Sprocket');
      await expect.poll(async () => pa.getByTestId('loaded-count').textContent()).toBe('1 loaded');
      const reads = countReads(pa);
      expect((await call('POST', '/api/v1/data/orders', { name: 'Sprocket Mini', total: 3 })).status).toBe(201);
      await pa.getByRole('button', { name: '1 new record · show' }).click();
      await pa.getByRole('cell', { name: 'Sprocket Mini', exact: true }).waitFor();
      expect(reads.length).toBe(1);
      await pa.getByLabel('Search').fill('');
      await pa.getByRole('cell', { name: 'Gadget Pro', exact: true }).waitFor();

      // The server restarts: the indicator says so, the socket comes back, subscribes again and the
      // grid reloads once (what changed meanwhile); then changes arrive live again.
      reads.length = 0;
      const port = new URL(server.url).port;
      await server.stop();
      await pa.locator('[data-testid="live-status"][data-status="reconnecting"]').waitFor();
      await shot(pa, 'rt-01b-reconnecting');
      server = await startServer(['--port', port], env);
      await live(pa);
      await expect.poll(() => reads.filter((r) => r.startsWith('/api/v1/data/orders')).length).toBe(1);
      expect((await call('POST', '/api/v1/data/orders', { name: 'Flywheel', total: 7 })).status).toBe(201);
      await pa.getByRole('cell', { name: 'Flywheel', exact: true }).waitFor();
      expect(reads.filter((r) => r.startsWith('/api/v1/data/orders'))).toHaveLength(1);
    });

    it('a run in the flow editor shows node states as they happen; the executions list and the dashboard follow without asking', async () => {
      const flow = (
        await call('POST', '/api/v1/flows', {
          name: 'Approval',
          nodes: [
            node('s', 'Start', 'trigger.manual'),
            node('ask', 'Ask', 'core.set', { values: { url: '{{ $execution.resumeUrl }}' } }, 260),
            node('w', 'Approval', 'core.wait', { mode: 'webhook', timeoutSeconds: 3600 }, 520),
            node('o', 'Output', 'core.output', { value: '{{ $input.decision }}' }, 780),
          ],
          edges: [edge('s', 'ask'), edge('ask', 'w'), edge('w', 'o')],
        })
      ).json.data as { id: string };

      await pb.goto(`${server.url}/executions`);
      await pb.getByRole('region', { name: 'Table' }).waitFor();
      await live(pb);
      const readsB = countReads(pb);

      await pa.goto(`${server.url}/flows/${flow.id}`);
      await pa.getByTestId('node-Start').waitFor();
      await live(pa);
      const readsA = countReads(pa);
      await pa.getByRole('button', { name: 'Run flow' }).click();

      // Parked at the wait node: the nodes before it done, the wait node waiting — from events.
      await pa.locator('[data-testid="run-node-Ask"][data-status="succeeded"]').waitFor();
      await pa.locator('[data-testid="run-node-Approval"][data-status="waiting"]').waitFor();
      await pa.locator('[data-testid="node-Approval"][data-status="waiting"]').waitFor();
      await expect.poll(async () => pa.getByTestId('run-status').textContent()).toBe('waiting');
      const execution = (await call('GET', `/api/v1/executions?flowId=${flow.id}`)).json.data[0] as { id: string };
      // Bob's executions list got the new run without asking.
      await pb.getByTestId(`status-${execution.id}`).waitFor();
      await shot(pa, 'rt-02-run-waiting');

      const trace = (await call('GET', `/api/v1/executions/${execution.id}`)).json.data;
      const resume = new URL(trace.nodes.find((n: Json) => n.nodeId === 'ask').output.main.url as string);
      const resumed = await fetch(`${server.url}${resume.pathname}${resume.search}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ decision: 'yes' }),
      });
      expect(resumed.status).toBe(202);
      await expect.poll(async () => pa.getByTestId('run-status').textContent()).toBe('succeeded');
      await pa.locator('[data-testid="node-Output"][data-status="succeeded"]').waitFor();
      await expect.poll(async () => pa.getByTestId('run-output').textContent()).toContain('yes');
      await expect.poll(async () => pb.getByTestId(`status-${execution.id}`).textContent()).toBe('succeeded');
      await shot(pa, 'rt-03-run-done');
      await shot(pb, 'rt-04-executions');
      // The editor asked twice about the run: what happened before its subscription was confirmed,
      // and the full trace (inputs and outputs) at the end. No polling in between.
      expect(readsA).toEqual([`/api/v1/executions/${execution.id}`, `/api/v1/executions/${execution.id}`]);
      expect(readsB).toEqual([]);

      // The dashboard counts what happens while it is open.
      await pb.goto(`${server.url}/dashboard`);
      await pb.getByTestId('live-counts').waitFor();
      await live(pb);
      const tile = pb.locator('dt', { hasText: 'Executions' }).locator('xpath=following-sibling::dd');
      const before = Number((await tile.textContent())!.replace(/\D/g, ''));
      const readsDash = countReads(pb);
      const quick = (
        await call('POST', '/api/v1/flows', {
          name: 'Quick',
          nodes: [node('s', 'Start', 'trigger.manual'), node('o', 'Output', 'core.output', { value: 1 }, 260)],
          edges: [edge('s', 'o')],
        })
      ).json.data as { id: string };
      expect((await call('POST', `/api/v1/flows/${quick.id}/run?wait=true`, { input: {} })).json.data.status).toBe('succeeded');
      expect((await call('POST', '/api/v1/data/orders', { name: 'Cog', total: 1 })).status).toBe(201);
      await expect.poll(async () => pb.getByTestId('live-counts').textContent()).toContain('1 record(s) created');
      await expect.poll(async () => pb.getByTestId('live-counts').textContent()).toContain('1 execution(s) succeeded');
      await expect.poll(async () => Number((await tile.textContent())!.replace(/\D/g, ''))).toBe(before + 1);
      await shot(pb, 'rt-05-dashboard');
      expect(readsDash).toEqual([]);
    });

    it('webhooks: create (secret once, a refused filter explained), the receiver gets the signed test, the log shows it, redeliver', async () => {
      await pa.goto(`${server.url}/data`);
      // From anywhere: the sidebar entry, "New webhook", the form, "Create webhook".
      await pa.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
      await pa.getByText('No webhooks yet.').waitFor();
      await shot(pa, 'rt-06-webhooks-empty');
      await pa.getByRole('button', { name: 'New webhook' }).first().click();
      const form = pa.getByRole('form', { name: 'New webhook' });
      await form.getByLabel('URL').fill(`${receiverUrl}/hook`);
      await form.getByRole('checkbox', { name: /Record created/ }).check();
      await form.getByRole('checkbox', { name: /Record deleted/ }).check();
      // Record events are about one model: the others cannot join them.
      expect(await form.getByRole('checkbox', { name: /Execution failed/ }).isDisabled()).toBe(true);
      await form.getByLabel('Model').selectOption('orders');
      // A filter the server refuses: its message under the filter, nothing created.
      await form.getByLabel('Filter (optional)').fill('{"total": {"near": 5}}');
      await form.getByRole('button', { name: 'Create webhook' }).click();
      await expect.poll(async () => form.getByLabel('Filter (optional)').getAttribute('aria-invalid')).toBe('true');
      await shot(pa, 'rt-07-webhook-filter-error');
      await form.getByLabel('Filter (optional)').fill('{"total": {"gt": 10}}');
      await form.getByLabel('Description (optional)').fill('Big orders to the warehouse');
      await shot(pa, 'rt-08-webhook-form');
      expect(await axeViolations(pa)).toEqual([]);
      await form.getByRole('button', { name: 'Create webhook' }).click();

      const secret = (await pa.getByTestId('shown-once').textContent())!;
      expect(secret).toMatch(/^whsec_/);
      await pa.getByText('not shown again', { exact: false }).waitFor();
      await shot(pa, 'rt-09-webhook-secret');

      await pa.getByRole('button', { name: 'Send test' }).click();
      await expect.poll(async () => pa.getByTestId('delivery-status').first().textContent()).toBe('delivered · 200');
      const test = received.find((r) => r.path === '/hook')!;
      const verifier = new Webhook(secret);
      expect(verifier.verify(test.body, test.headers as Record<string, string>)).toMatchObject({ type: 'webhook.test' });

      await pa.getByRole('button', { name: 'Redeliver' }).first().click();
      await until('the redelivery', async () => received.filter((r) => r.path === '/hook').length >= 2);
      const again = received.filter((r) => r.path === '/hook')[1]!;
      // The same delivery again: same webhook-id, a new signature that verifies.
      expect(again.headers['webhook-id']).toBe(test.headers['webhook-id']);
      expect(verifier.verify(again.body, again.headers as Record<string, string>)).toMatchObject({ type: 'webhook.test' });
      await pa.getByRole('button', { name: '2 attempts' }).click();
      await pa.getByRole('list', { name: 'Attempts' }).waitFor();
      await shot(pa, 'rt-10-webhook-deliveries');
      expect(await axeViolations(pa)).toEqual([]);
      expect(errors).toEqual([]);
    });

    it('a webhook disabled by a 410 notifies the admins: the unread count goes up live', async () => {
      await pa.goto(`${server.url}/webhooks`);
      await live(pa);
      // A subscription whose receiver answers 410 Gone is disabled, and the admins are notified:
      // the count on Usage goes up without a request.
      const reads = countReads(pa);
      const gone = (await call('POST', '/api/v1/webhooks', { url: `${receiverUrl}/gone`, events: ['usage.alert'] })).json.data as { id: string };
      await call('POST', `/api/v1/webhooks/${gone.id}/test`, {});
      await pa.getByText('1 unread notifications', { exact: false }).waitFor();
      expect(reads.filter((r) => r.startsWith('/api/v1/notifications'))).toEqual([]);
      await pa.reload();
      await pa
        .getByText(/Disabled/)
        .first()
        .waitFor();
      await shot(pa, 'rt-11-webhooks-list');
    });
  });
