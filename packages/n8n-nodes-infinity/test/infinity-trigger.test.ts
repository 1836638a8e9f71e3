/**
 * The Infinity Trigger against a running Infinity: the webhook is subscribed on activation
 * (create), found again (checkExists), replaced when the parameters change, removed on
 * deactivation (delete); real deliveries from the server pass the node's signature check, and
 * tampered, stale or replayed ones do not run the workflow.
 */
import type { IDataObject } from 'n8n-workflow';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends } from '../../../apps/server/src/platform/testing/backends';
import { type Received, startReceiver } from '../../../apps/server/src/platform/testing/webhook-receiver';
import { until } from '../../../test/e2e/server-process';
import { InfinityTrigger } from '../nodes/InfinityTrigger/InfinityTrigger.node';
import { type Credentials, hookContext, webhookContext } from './harness';
import { type Infinity as Server, startInfinity } from './setup';

const trigger = new InfinityTrigger();
const hooks = trigger.webhookMethods.default;
const rl = (value: string) => ({ __rl: true, mode: 'list', value });

function requestOf(r: Received) {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) if (typeof v === 'string') headers[k] = v;
  return { headers, rawBody: r.body };
}

for (const backend of testBackends()) {
  describe(`n8n node Infinity Trigger [${backend}]`, () => {
    let s: Server;
    let creds: Credentials;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;

    beforeAll(async () => {
      s = await startInfinity(backend, 'n8n-trigger');
      creds = { baseUrl: s.url, apiKey: s.adminKey };
      receiver = await startReceiver();
      const m = await s.call('POST', '/models', {
        name: 'tasks',
        fields: [
          { name: 'title', type: 'string' },
          { name: 'priority', type: 'integer' },
        ],
      });
      expect(m.status).toBe(201);
    });
    afterAll(async () => {
      await s?.server.stop();
      await receiver?.close();
    });

    it('record events: create → checkExists → signed deliveries verified; tampering, stale timestamps and replays refused; changed parameters resubscribe; delete removes it', async () => {
      const staticData: IDataObject = {};
      const webhookUrl = receiver.url('/webhook/records');
      let parameters: IDataObject = {
        source: 'record',
        model: rl('tasks'),
        recordEvents: ['record.created', 'record.updated'],
        filters: { conditions: [{ field: 'priority', operator: 'gte', value: '3' }] },
        matchType: 'all',
      };
      const hook = () => hookContext({ credentials: creds, parameters, staticData, webhookUrl });
      const opts = () => ({ credentials: creds, parameters, staticData, webhookUrl });

      expect(await hooks.checkExists.call(hook())).toBe(false);
      expect(await hooks.create.call(hook())).toBe(true);
      const webhookId = staticData.webhookId as string;
      expect(staticData.secret).toMatch(/^whsec_/);
      const sub = (await s.call('GET', `/webhooks/${webhookId}`)).json.data;
      expect(sub).toMatchObject({ url: webhookUrl, model: 'tasks', enabled: true, filter: { and: [{ priority: { gte: '3' } }] } });
      expect([...sub.events].sort()).toEqual(['record.created', 'record.updated']);
      expect(await hooks.checkExists.call(hook())).toBe(true);

      // The filter holds back the low-priority task; the high-priority one arrives, signed.
      expect((await s.call('POST', '/data/tasks', { title: 'low', priority: 1 })).status).toBe(201);
      const high = (await s.call('POST', '/data/tasks', { title: 'high', priority: 5 })).json.data;
      const delivery = await until('the delivery of the high-priority task', async () =>
        receiver.inbox.items.find((r) => (r.json.data.record as { id?: string } | undefined)?.id === high.id),
      );
      expect(receiver.inbox.items.some((r) => (r.json.data.record as { title?: string }).title === 'low')).toBe(false);

      const first = webhookContext(opts(), requestOf(delivery));
      const out = await trigger.webhook.call(first.ctx);
      expect(first.response.status).toBeUndefined();
      expect(out.workflowData![0]![0]!.json).toMatchObject({ type: 'record.created', data: { model: 'tasks', record: { id: high.id, title: 'high' } } });

      // The same delivery again (a replay): acknowledged, not run.
      const again = webhookContext(opts(), requestOf(delivery));
      expect(await trigger.webhook.call(again.ctx)).toEqual({ noWebhookResponse: true });
      expect(again.response).toEqual({ status: 200, body: { duplicate: true } });

      // A changed body under the original signature.
      const tampered = requestOf(delivery);
      tampered.rawBody = tampered.rawBody.replace('"high"', '"HIGH"');
      const t = webhookContext(opts(), tampered);
      expect(await trigger.webhook.call(t.ctx)).toEqual({ noWebhookResponse: true });
      expect(t.response.status).toBe(401);
      expect((t.response.body as { error: { code: string } }).error.code).toBe('SIGNATURE_INVALID');

      // Signed with the right secret by the reference signer: fresh is run, ten minutes old is refused.
      const signer = new Webhook(staticData.secret as string);
      const resign = (id: string, at: Date) => ({
        rawBody: delivery.body,
        headers: { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signer.sign(id, at, delivery.body) },
      });
      const fresh = webhookContext(opts(), resign('msg_fresh', new Date()));
      expect((await trigger.webhook.call(fresh.ctx)).workflowData).toHaveLength(1);
      const stale = webhookContext(opts(), resign('msg_stale', new Date(Date.now() - 10 * 60_000)));
      expect(await trigger.webhook.call(stale.ctx)).toEqual({ noWebhookResponse: true });
      expect(stale.response.status).toBe(401);

      // An update event passes the same way.
      expect((await s.call('PATCH', `/data/tasks/${high.id as string}`, { title: 'higher' })).status).toBe(200);
      const update = await until('the update delivery', async () => receiver.inbox.items.find((r) => r.json.type === 'record.updated'));
      const u = webhookContext(opts(), requestOf(update));
      expect((await trigger.webhook.call(u.ctx)).workflowData![0]![0]!.json).toMatchObject({ type: 'record.updated', data: { record: { title: 'higher' } } });

      // The user changes the events: the old subscription is removed and a new one made.
      parameters = { ...parameters, recordEvents: ['record.deleted'] };
      expect(await hooks.checkExists.call(hook())).toBe(false);
      expect((await s.call('GET', `/webhooks/${webhookId}`)).status).toBe(404);
      expect(await hooks.create.call(hook())).toBe(true);
      const second = staticData.webhookId as string;
      expect(second).not.toBe(webhookId);
      expect((await s.call('GET', `/webhooks/${second}`)).json.data.events).toEqual(['record.deleted']);

      // Deactivation.
      expect(await hooks.delete.call(hook())).toBe(true);
      expect((await s.call('GET', `/webhooks/${second}`)).status).toBe(404);
      expect(staticData).toEqual({});
      expect(await hooks.checkExists.call(hook())).toBe(false);
      // A delivery reaching a trigger with no subscription is refused.
      const orphan = webhookContext(opts(), requestOf(delivery));
      await trigger.webhook.call(orphan.ctx);
      expect(orphan.response.status).toBe(401);
      // Deleting twice (already gone in Infinity) is not an error.
      staticData.webhookId = second;
      expect(await hooks.delete.call(hook())).toBe(true);
    });

    it('execution events: a finished flow run is delivered and verified', async () => {
      const staticData: IDataObject = {};
      const webhookUrl = receiver.url('/webhook/executions');
      const parameters = { source: 'execution', executionEvents: ['execution.succeeded', 'execution.failed'] };
      const hook = hookContext({ credentials: creds, parameters, staticData, webhookUrl });
      expect(await hooks.checkExists.call(hook)).toBe(false);
      expect(await hooks.create.call(hook)).toBe(true);
      const sub = (await s.call('GET', `/webhooks/${staticData.webhookId as string}`)).json.data;
      expect(sub.model).toBeNull();

      const flow = await s.call('POST', '/flows', {
        name: 'Noop',
        nodes: [{ id: 'start', type: 'trigger.manual', name: 'Start', position: { x: 0, y: 0 }, params: {} }],
        edges: [],
      });
      expect(flow.status, JSON.stringify(flow.json)).toBe(201);
      const execution = (await s.call('POST', `/flows/${flow.json.data.id as string}/run?wait=true`, { input: {} })).json.data;
      const delivery = await until('the execution delivery', async () => receiver.inbox.items.find((r) => r.json.data.executionId === execution.id));
      const w = webhookContext({ credentials: creds, parameters, staticData, webhookUrl }, requestOf(delivery));
      expect((await trigger.webhook.call(w.ctx)).workflowData![0]![0]!.json).toMatchObject({
        type: 'execution.succeeded',
        data: { executionId: execution.id, status: 'succeeded' },
      });
      expect(await hooks.delete.call(hook)).toBe(true);
    });

    it('refuses to subscribe with an editor key (its role bounds the node), with the error code', async () => {
      const hook = hookContext({
        credentials: { ...creds, apiKey: s.editorKey },
        parameters: { source: 'record', model: rl('tasks'), recordEvents: ['record.created'] },
        staticData: {},
        webhookUrl: receiver.url('/webhook/viewer'),
      });
      await expect(hooks.create.call(hook)).rejects.toMatchObject({ httpCode: '403', context: { infinityCode: expect.stringMatching(/^[A-Z_]+$/) } });
    });
  });
}
