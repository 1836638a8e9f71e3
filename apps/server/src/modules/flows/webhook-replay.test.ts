import { createHmac } from 'node:crypto';
import { expect, it } from 'vitest';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { createHarness, describeEachDb } from '../../platform/testing/harness.js';

/**
 * Regression for webhook replays: the same generic-HMAC request was accepted again, and a
 * Stripe-style signature could be replayed within its tolerance. Now a signed request is accepted
 * once: its signature is remembered (in the database, so every process sees it) for as long as
 * its timestamp is valid, and a replay answers 409 WEBHOOK_REPLAYED without starting anything.
 */
const WHSEC = 'whsec_replay_test_5f2a9c';
const hex = (data: string) => createHmac('sha256', WHSEC).update(data).digest('hex');
const node = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });
const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, sourceHandle: 'main', target, targetHandle: 'main' });

describeEachDb('webhooks: a signed request is accepted once', (h) => {
  let flowId: string;
  const hook = (path: string, headers: Record<string, string>, payload: string, on = h()) =>
    on.request({ method: 'POST', url: `/api/v1/hooks/${flowId}/${path}`, headers: { 'content-type': 'application/json', ...headers }, payload });
  const executions = async () => Number((await h().db.pool.query('select count(*)::int as n from executions where flow_id = $1', [flowId])).rows[0]!.n);
  const now = () => Math.floor(Date.now() / 1000);

  it('setup: a flow with generic, Stripe and GitHub signed webhooks', async () => {
    const owner = await signUp(h());
    const key = (await createApiKey(h(), owner.token, 'editor')).key;
    const secret = await h().request({
      method: 'POST',
      url: '/api/v1/secrets',
      token: owner.token,
      body: { name: 'signing', provider: 'generic', value: WHSEC, allowedHosts: [] },
    });
    expect(secret.statusCode, secret.body).toBe(201);
    const signature = (style: string) => ({ style, secretId: secret.json().data.id as string });
    const r = await h().request({
      method: 'POST',
      url: '/api/v1/flows',
      apiKey: key,
      body: {
        name: 'Signed',
        nodes: [
          node('g', 'trigger.webhook', { path: 'g', auth: 'hmac', signature: signature('generic') }),
          node('s', 'trigger.webhook', { path: 's', auth: 'hmac', signature: signature('stripe') }),
          node('gh', 'trigger.webhook', { path: 'gh', auth: 'hmac', signature: signature('github') }),
          node('out', 'core.output', { value: '{{ $input.body }}' }),
        ],
        edges: [edge('g', 'out'), edge('s', 'out'), edge('gh', 'out')],
      },
    });
    expect(r.statusCode, r.body).toBe(201);
    flowId = r.json().data.id;
    expect((await h().request({ method: 'PATCH', url: `/api/v1/flows/${flowId}`, apiKey: key, body: { active: true } })).statusCode).toBe(200);
  });

  it('generic: the same signed request twice is refused the second time (409) and starts no execution', async () => {
    const body = '{"order":1}';
    const t = String(now());
    const headers = { 'x-infinity-timestamp': t, 'x-signature': hex(`${t}.${body}`) };
    const first = await hook('g', headers, body);
    expect(first.statusCode, first.body).toBe(202);
    const before = await executions();
    const again = await hook('g', headers, body);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('WEBHOOK_REPLAYED');
    expect(await executions()).toBe(before);
    // A sender that signs anew (a new timestamp) is accepted.
    const t2 = String(now() + 1);
    expect((await hook('g', { 'x-infinity-timestamp': t2, 'x-signature': hex(`${t2}.${body}`) }, body)).statusCode).toBe(202);
    // Without a timestamp there is nothing to bound a replay: refused.
    const bare = await hook('g', { 'x-signature': hex(body) }, body);
    expect(bare.statusCode).toBe(401);
    expect(bare.json().error.message).toMatch(/x-infinity-timestamp/);
  });

  it('generic: a replay to another process (another app on the same database) is refused too', async () => {
    const body = '{"order":2}';
    const t = String(now());
    const headers = { 'x-infinity-timestamp': t, 'x-signature': hex(`${t}.${body}`) };
    expect((await hook('g', headers, body)).statusCode).toBe(202);
    const other = await createHarness(h().kind, { INFINITY_QUEUE_POLL: '100' }, { db: h().db, keys: h().keys });
    try {
      const before = await executions();
      const again = await hook('g', headers, body, other);
      expect(again.statusCode).toBe(409);
      expect(await executions()).toBe(before);
    } finally {
      await other.built.close();
    }
  });

  it('Stripe style: a signature replayed within its tolerance is refused, however the header is dressed', async () => {
    const body = '{"id":"evt_1"}';
    const t = now();
    const sig = hex(`${t}.${body}`);
    expect((await hook('s', { 'stripe-signature': `t=${t},v1=${sig}` }, body)).statusCode).toBe(202);
    const before = await executions();
    for (const header of [`t=${t},v1=${sig}`, `t=${t},v1=deadbeef,v1=${sig}`, `v1=${sig},t=${t}`]) {
      const r = await hook('s', { 'stripe-signature': header }, body);
      expect(r.statusCode, header).toBe(409);
      expect(r.json().error.code).toBe('WEBHOOK_REPLAYED');
    }
    expect(await executions()).toBe(before);
  });

  it('regression: a trigger saved without toleranceSec still refuses an old timestamp (the tolerance was NaN: every age passed)', async () => {
    const body = '{"id":"evt_old"}';
    const t = now() - 3600;
    const r = await hook('s', { 'stripe-signature': `t=${t},v1=${hex(`${t}.${body}`)}` }, body);
    expect(r.statusCode).toBe(401);
    expect(r.json().error.message).toMatch(/tolerance/);
  });

  it('GitHub style: a delivery is accepted once, by its signature and its X-GitHub-Delivery id', async () => {
    const body = '{"action":"opened","number":7}';
    const sig = `sha256=${hex(body)}`;
    expect((await hook('gh', { 'x-hub-signature-256': sig, 'x-github-delivery': 'delivery-1' }, body)).statusCode).toBe(202);
    const before = await executions();
    // The same delivery; the same body under a new (unsigned) delivery id; another body under the same id.
    const other = '{"action":"closed","number":7}';
    for (const [headers, payload] of [
      [{ 'x-hub-signature-256': sig, 'x-github-delivery': 'delivery-1' }, body],
      [{ 'x-hub-signature-256': sig, 'x-github-delivery': 'delivery-2' }, body],
      [{ 'x-hub-signature-256': `sha256=${hex(other)}`, 'x-github-delivery': 'delivery-1' }, other],
    ] as const) {
      const r = await hook('gh', headers, payload);
      expect(r.statusCode, JSON.stringify(headers)).toBe(409);
    }
    expect(await executions()).toBe(before);
  });
});
