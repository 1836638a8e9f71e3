#!/usr/bin/env node
/**
 * End to end with a real n8n (`npm run test:n8n` at the repository root; not part of the default
 * CI run: a first install of n8n takes ~7 minutes and 2.3 GB).
 *
 *   1. n8n 2.8.4 from npm in ${XDG_CACHE_HOME:-~/.cache}/infinity/n8n-2.8.4 (installed when missing,
 *      with the `xlsx` override its own dependency needs to install from the registry);
 *   2. this package built and `npm pack`ed, the tarball installed into a custom extensions folder as
 *      users install it (`npm install <tarball>`), handed to n8n with N8N_CUSTOM_EXTENSIONS;
 *   3. Infinity (`infinity start`, embedded database, temporary data folder) and n8n (temporary
 *      user folder, free port, loopback only, telemetry and update checks off);
 *   4. through n8n's REST API as its editor does: owner set up, credential created (and tested by
 *      n8n), workflow "Infinity Trigger (record created) → Infinity (update that record)" created
 *      and activated; a record created in Infinity is updated by the workflow;
 *   5. screenshots of the editor and of the Infinity node's parameters into docs/integrations/img/;
 *   6. the workflow deactivated: its webhook subscription is gone from Infinity.
 *
 * Prints each step's time; exits non-zero on any failure (with both servers' last log lines).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const N8N_VERSION = '2.8.4';
const pkgDir = path.resolve(import.meta.dirname, '..');
const repo = path.resolve(pkgDir, '../..');
const cacheDir = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'infinity', `n8n-${N8N_VERSION}`);
const imgDir = path.join(repo, 'docs/integrations/img');
const work = mkdtempSync(path.join(os.tmpdir(), 'infinity-n8n-e2e-'));
const started = Date.now();
const children = [];

let last = Date.now();
function step(what) {
  const now = Date.now();
  console.log(`[e2e-n8n] ${((now - started) / 1000).toFixed(1).padStart(6)} s  (+${((now - last) / 1000).toFixed(1)} s)  ${what}`);
  last = now;
}

function run(cmd, args, cwd, extraEnv = {}) {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...extraEnv } });
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `check` until it gives a value (never a fixed sleep); fails with `what` at the deadline. */
async function until(what, check, timeoutMs = 120_000, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function spawnLogged(name, cmd, args, env, onLine = () => {}) {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const push = (line) => {
    lines.push(line);
    if (lines.length > 400) lines.shift();
    onLine(line);
  };
  readline.createInterface({ input: proc.stdout }).on('line', push);
  readline.createInterface({ input: proc.stderr }).on('line', push);
  const child = { name, proc, lines };
  children.push(child);
  return child;
}

async function json(res) {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

// ── 1. n8n ──
async function ensureN8n() {
  const bin = path.join(cacheDir, 'node_modules/.bin/n8n');
  if (existsSync(bin)) return bin;
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(
    path.join(cacheDir, 'package.json'),
    JSON.stringify({ name: 'infinity-n8n-cache', private: true, dependencies: { n8n: N8N_VERSION }, overrides: { xlsx: '0.18.5' } }),
  );
  console.log(`[e2e-n8n] installing n8n ${N8N_VERSION} into ${cacheDir} (several minutes, once)`);
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], cacheDir);
  return bin;
}

// ── 2. the package, as users install it ──
function packAndInstall() {
  const packDir = path.join(work, 'pack');
  mkdirSync(packDir);
  run('npm', ['pack', '--pack-destination', packDir, '--loglevel=error'], pkgDir); // prepack builds
  const tarball = path.join(
    packDir,
    readdirSync(packDir).find((f) => f.endsWith('.tgz')),
  );
  const custom = path.join(work, 'custom');
  mkdirSync(custom);
  writeFileSync(path.join(custom, 'package.json'), JSON.stringify({ name: 'n8n-custom-extensions', private: true }));
  // --legacy-peer-deps: n8n-workflow, the peer, is n8n's own at run time.
  run('npm', ['install', '--no-audit', '--no-fund', '--legacy-peer-deps', '--loglevel=error', tarball], custom);
  return { tarball, custom };
}

// ── 3. the servers ──
async function startInfinity() {
  run(process.execPath, [path.join(repo, 'node_modules/typescript/bin/tsc'), '-b', 'apps/server/tsconfig.json'], repo);
  const env = { INFINITY_DATA_DIR: path.join(work, 'infinity-data'), INFINITY_HTTP_ALLOW: '127.0.0.1/32', INFINITY_LOG_LEVEL: 'info' };
  let resolveUrl;
  let rejectUrl;
  const url = new Promise((resolve, reject) => {
    resolveUrl = resolve;
    rejectUrl = reject;
  });
  const child = spawnLogged('infinity', process.execPath, [path.join(repo, 'apps/server/dist/cli.js'), 'start', '--port', '0'], env, (line) => {
    if (line.includes('"Infinity is listening"')) resolveUrl(JSON.parse(line).url.replace('0.0.0.0', '127.0.0.1'));
  });
  child.proc.once('exit', (code) => rejectUrl(new Error(`infinity exited with ${code}`)));
  return { child, url: await url };
}

async function startN8n(bin, custom) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    N8N_USER_FOLDER: path.join(work, 'n8n-home'),
    N8N_PORT: String(port),
    N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_HOST: '127.0.0.1',
    N8N_PROTOCOL: 'http',
    WEBHOOK_URL: `${base}/`,
    N8N_EDITOR_BASE_URL: `${base}/`,
    N8N_CUSTOM_EXTENSIONS: custom,
    N8N_RUNNERS_BROKER_PORT: String(await freePort()),
    N8N_ENCRYPTION_KEY: randomBytes(24).toString('hex'),
    N8N_SECURE_COOKIE: 'false',
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_TEMPLATES_ENABLED: 'false',
    N8N_PERSONALIZATION_ENABLED: 'false',
    N8N_HIRING_BANNER_ENABLED: 'false',
    N8N_COMMUNITY_PACKAGES_ENABLED: 'false',
    N8N_AI_ENABLED: 'false',
    EXTERNAL_FRONTEND_HOOKS_URLS: '',
    N8N_DIAGNOSTICS_CONFIG_FRONTEND: '',
    N8N_DIAGNOSTICS_CONFIG_BACKEND: '',
    N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
    N8N_LOG_LEVEL: 'info',
    DB_SQLITE_POOL_SIZE: '2',
  };
  const child = spawnLogged('n8n', bin, ['start'], env);
  child.proc.once('exit', (code) => {
    if (!child.stopping) console.error(`[e2e-n8n] n8n exited with ${code}`);
  });
  await until('n8n /healthz/readiness', async () => (await fetch(`${base}/healthz/readiness`)).ok, 240_000, 500);
  // Readiness comes before the REST controllers are mounted: wait for the editor's settings too.
  await until('n8n /rest/settings', async () => (await fetch(`${base}/rest/settings`)).ok, 120_000, 500);
  return { child, base };
}

function n8nClient(base) {
  let cookie = '';
  return async (method, p, body) => {
    const res = await fetch(`${base}/rest${p}`, {
      method,
      headers: { ...(cookie ? { cookie } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0];
    const out = await json(res);
    if (!res.ok) throw new Error(`n8n ${method} ${p}: ${res.status} ${JSON.stringify(out).slice(0, 500)}`);
    return { data: out?.data ?? out, cookie: () => cookie };
  };
}

function infinityClient(url, auth) {
  return async (method, p, body) => {
    const res = await fetch(`${url}/api/v1${p}`, {
      method,
      headers: { ...auth(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: await json(res) };
  };
}

async function screenshots(base, cookie, workflowId, nodeId) {
  const { chromium } = await import('playwright-core');
  mkdirSync(imgDir, { recursive: true });
  const context = await chromium.launchPersistentContext(path.join(work, 'chromium'), {
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1440, height: 900 },
  });
  try {
    const [name, value] = cookie.split('=');
    await context.addCookies([{ name, value, url: base }]);
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${base}/workflow/${workflowId}`, { waitUntil: 'domcontentloaded' });
    await page.locator('[data-test-id="canvas-node"]').nth(1).waitFor({ timeout: 60_000 });
    // Let the canvas settle on its fitted view: wait for two nodes' boxes to stop moving.
    let previous = '';
    await until(
      'the canvas to settle',
      async () => {
        const boxes = JSON.stringify(await page.locator('[data-test-id="canvas-node"]').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().x)));
        const same = boxes === previous;
        previous = boxes;
        return same;
      },
      20_000,
      300,
    );
    await page.screenshot({ path: path.join(imgDir, 'n8n-workflow.png') });
    await page.goto(`${base}/workflow/${workflowId}/${nodeId}`, { waitUntil: 'domcontentloaded' });
    await page.locator('[data-test-id="ndv"]').first().waitFor({ timeout: 60_000 });
    await page
      .locator('[data-test-id="ndv"] [data-test-id="parameter-input-resource"], [data-test-id="ndv"] .parameter-input')
      .first()
      .waitFor({ timeout: 30_000 });
    await until(
      'the parameters to render',
      async () => (await page.getByText('Fields').count()) > 0 || (await page.getByText('Columns to match on').count()) > 0,
      20_000,
    );
    await page.screenshot({ path: path.join(imgDir, 'n8n-node-parameters.png') });
  } finally {
    await context.close();
  }
}

async function main() {
  const bin = await ensureN8n();
  step(`n8n ${execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()} ready in ${cacheDir}`);
  const { tarball, custom } = packAndInstall();
  step(`packed ${path.basename(tarball)} and installed it into ${custom}`);

  const infinity = await startInfinity();
  step(`Infinity listening at ${infinity.url}`);
  let token = '';
  const asOwner = infinityClient(infinity.url, () => ({ authorization: `Bearer ${token}` }));
  const signup = await asOwner('POST', '/auth/signup', { name: 'Ops', email: 'ops@example.com', password: 'ops password 1' });
  token = signup.json.data.accessToken;
  const apiKey = (await asOwner('POST', '/api-keys', { name: 'n8n', role: 'admin' })).json.data.key;
  const model = await asOwner('POST', '/models', {
    name: 'tickets',
    label: 'Tickets',
    fields: [
      { name: 'title', type: 'string', required: true },
      { name: 'status', type: 'enum', values: ['new', 'triaged'], default: 'new' },
      { name: 'note', type: 'text' },
    ],
  });
  if (model.status !== 201) throw new Error(`model: ${JSON.stringify(model.json)}`);

  const n8n = await startN8n(bin, custom);
  step(`n8n ready at ${n8n.base}`);
  const rest = n8nClient(n8n.base);
  const owner = await rest('POST', '/owner/setup', { email: 'owner@example.com', firstName: 'Olive', lastName: 'Owner', password: 'Owner password 1' });
  const types = await rest('GET', '/credential-types').catch(() => undefined);
  if (types && Array.isArray(types.data) && !types.data.some((t) => t.name === 'infinityApi')) throw new Error('n8n did not load the Infinity API credential');

  const credData = { baseUrl: infinity.url, apiKey, sendAs: 'header' };
  const credential = (await rest('POST', '/credentials', { name: 'Infinity (local)', type: 'infinityApi', data: credData })).data;
  const tested = (await rest('POST', '/credentials/test', { credentials: { id: credential.id, name: credential.name, type: 'infinityApi', data: credData } }))
    .data;
  if (tested.status !== 'OK') throw new Error(`n8n's credential test: ${JSON.stringify(tested)}`);
  step(`credential "${credential.name}" created; n8n's credential test: ${tested.status}`);

  const creds = { infinityApi: { id: credential.id, name: credential.name } };
  const modelRl = { __rl: true, mode: 'list', value: 'tickets', cachedResultName: 'Tickets (tickets)' };
  const triggerId = randomUUID();
  const updateId = randomUUID();
  const column = (id, type, extra = {}) => ({
    id,
    displayName: id === 'id' ? 'ID' : id,
    required: false,
    defaultMatch: false,
    display: true,
    type,
    canBeUsedToMatch: false,
    ...extra,
  });
  const workflow = (
    await rest('POST', '/workflows', {
      name: 'Triage new tickets',
      active: false,
      settings: { executionOrder: 'v1' },
      connections: { 'New ticket': { main: [[{ node: 'Mark as triaged', type: 'main', index: 0 }]] } },
      nodes: [
        {
          id: triggerId,
          name: 'New ticket',
          type: 'CUSTOM.infinityTrigger',
          typeVersion: 1,
          position: [0, 0],
          webhookId: randomUUID(),
          parameters: { source: 'record', model: modelRl, recordEvents: ['record.created'] },
          credentials: creds,
        },
        {
          id: updateId,
          name: 'Mark as triaged',
          type: 'CUSTOM.infinity',
          typeVersion: 1,
          position: [320, 0],
          parameters: {
            resource: 'record',
            operation: 'update',
            model: modelRl,
            columns: {
              mappingMode: 'defineBelow',
              value: { id: '={{ $json.data.record.id }}', status: 'triaged', note: '={{ "Seen by n8n: " + $json.data.record.title }}' },
              matchingColumns: ['id'],
              schema: [
                column('id', 'string', { required: true, defaultMatch: true, canBeUsedToMatch: true }),
                column('title', 'string', { removed: true }),
                column('status', 'options', {
                  options: [
                    { name: 'new', value: 'new' },
                    { name: 'triaged', value: 'triaged' },
                  ],
                }),
                column('note', 'string'),
              ],
              attemptToConvertTypes: false,
              convertFieldsToString: false,
            },
          },
          credentials: creds,
        },
      ],
    })
  ).data;
  await rest('POST', `/workflows/${workflow.id}/activate`, { versionId: workflow.versionId });
  step(`workflow ${workflow.id} created and activated`);

  const asKey = infinityClient(infinity.url, () => ({ 'x-api-key': apiKey }));
  const subscription = await until('the trigger to subscribe in Infinity', async () => {
    const list = (await asKey('GET', '/webhooks')).json.data;
    return list.find((w) => w.url.startsWith(n8n.base) && w.events.includes('record.created') && w.model === 'tickets');
  });
  step(`Infinity has the subscription ${subscription.id} → ${subscription.url}`);

  const created = (await asKey('POST', '/data/tickets', { title: 'Printer on fire' })).json.data;
  const t0 = Date.now();
  const updated = await until('the workflow to update the record', async () => {
    const r = (await asKey('GET', `/data/tickets/${created.id}`)).json.data;
    return r.status === 'triaged' ? r : undefined;
  });
  if (updated.note !== 'Seen by n8n: Printer on fire') throw new Error(`unexpected note: ${updated.note}`);
  step(`record ${created.id} created → updated by the n8n workflow in ${Date.now() - t0} ms (note: "${updated.note}")`);
  const deliveries = (await asKey('GET', `/webhooks/${subscription.id}/deliveries`)).json.data;
  if (!deliveries.some((d) => d.status === 'delivered' && d.lastStatusCode === 200)) throw new Error(`no delivered delivery: ${JSON.stringify(deliveries)}`);
  const executions = (await rest('GET', `/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId: workflow.id }))}`)).data;
  const results = executions.results ?? executions;
  if (!results.some((e) => e.status === 'success')) throw new Error(`no successful n8n execution: ${JSON.stringify(results).slice(0, 500)}`);
  step(`n8n shows ${results.length} execution(s), status ${results.map((e) => e.status).join(', ')}`);

  if (process.env.E2E_N8N_SCREENSHOTS !== '0') {
    await screenshots(n8n.base, owner.cookie(), workflow.id, updateId);
    step(`screenshots written to ${path.relative(repo, imgDir)}/`);
  }

  await rest('POST', `/workflows/${workflow.id}/deactivate`, {});
  await until('the subscription to be removed from Infinity', async () => (await asKey('GET', `/webhooks/${subscription.id}`)).status === 404);
  step('workflow deactivated: the subscription is gone from Infinity');
}

let failed = false;
try {
  await main();
  console.log(`[e2e-n8n] PASSED in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (err) {
  failed = true;
  console.error(`[e2e-n8n] FAILED: ${err instanceof Error ? err.stack : String(err)}`);
  for (const c of children) console.error(`\n--- last lines of ${c.name} ---\n${c.lines.slice(-60).join('\n')}`);
} finally {
  for (const c of children) {
    c.stopping = true;
    if (c.proc.exitCode === null && c.proc.signalCode === null) {
      const exited = new Promise((r) => c.proc.once('exit', r));
      c.proc.kill('SIGTERM');
      const timer = setTimeout(() => c.proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
  }
  if (!failed || process.env.E2E_N8N_KEEP !== '1') rmSync(work, { recursive: true, force: true });
  else console.error(`[e2e-n8n] kept ${work}`);
}
process.exit(failed ? 1 : 0);
