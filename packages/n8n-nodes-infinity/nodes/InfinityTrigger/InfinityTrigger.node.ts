import type { IDataObject, IHookFunctions, INodeType, INodeTypeDescription, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';
import { filterFields, modelLocator } from '../Infinity/descriptions/common';
import { filterOf } from '../Infinity/filters';
import { currentLocatorValue, getFields, searchModels } from '../Infinity/methods';
import { ReplayGuard, verifySignature } from '../Infinity/signature';
import { infinityRequest } from '../Infinity/transport';

/** What the node keeps in the workflow's static data: the subscription, its secret, and what it was made for. */
interface Subscription {
  webhookId?: string;
  secret?: string;
  config?: string;
}

/** Recently seen webhook-ids per subscription (this n8n process), to refuse replays. */
const guards = new Map<string, ReplayGuard>();

function guardFor(webhookId: string): ReplayGuard {
  let g = guards.get(webhookId);
  if (!g) {
    g = new ReplayGuard();
    guards.set(webhookId, g);
  }
  return g;
}

/** The subscription this node's parameters ask for (`POST /api/v1/webhooks` body without url and description). */
function wanted(ctx: IHookFunctions): { events: string[]; model?: string; filter?: IDataObject } {
  const source = ctx.getNodeParameter('source') as string;
  if (source === 'execution') return { events: ctx.getNodeParameter('executionEvents') as string[] };
  const filter = filterOf(ctx.getNodeParameter('filters', {}) as IDataObject, ctx.getNodeParameter('matchType', 'all') as string);
  return {
    events: ctx.getNodeParameter('recordEvents') as string[],
    model: currentLocatorValue(ctx, 'model'),
    ...(filter ? { filter } : {}),
  };
}

function forget(data: Subscription): void {
  delete data.webhookId;
  delete data.secret;
  delete data.config;
}

const configOf = (url: string, w: ReturnType<typeof wanted>) => JSON.stringify({ url, ...w, events: [...w.events].sort() });

/** Starts a workflow on Infinity record events of a model, or on finished flow executions, through a signed webhook. */
export class InfinityTrigger implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Infinity Trigger',
    name: 'infinityTrigger',
    icon: 'file:infinity.svg',
    group: ['trigger'],
    version: 1,
    subtitle: '={{$parameter["source"] === "execution" ? $parameter["executionEvents"].join(", ") : $parameter["recordEvents"].join(", ")}}',
    description: 'Starts the workflow when Infinity records change or flow executions finish',
    defaults: { name: 'Infinity Trigger' },
    inputs: [],
    outputs: ['main'],
    credentials: [{ name: 'infinityApi', required: true }],
    webhooks: [{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'webhook' }],
    properties: [
      {
        displayName: 'Trigger On',
        name: 'source',
        type: 'options',
        noDataExpression: true,
        options: [
          { name: 'Flow Executions', value: 'execution' },
          { name: 'Records', value: 'record' },
        ],
        default: 'record',
      },
      modelLocator({ source: ['record'] }),
      {
        displayName: 'Events',
        name: 'recordEvents',
        type: 'multiOptions',
        required: true,
        options: [
          { name: 'Record Created', value: 'record.created' },
          { name: 'Record Deleted', value: 'record.deleted' },
          { name: 'Record Updated', value: 'record.updated' },
        ],
        default: ['record.created'],
        displayOptions: { show: { source: ['record'] } },
      },
      ...filterFields({ source: ['record'] }),
      {
        displayName: 'Events',
        name: 'executionEvents',
        type: 'multiOptions',
        required: true,
        options: [
          { name: 'Execution Failed', value: 'execution.failed' },
          { name: 'Execution Succeeded', value: 'execution.succeeded' },
        ],
        default: ['execution.succeeded'],
        displayOptions: { show: { source: ['execution'] } },
      },
    ],
  };

  methods = {
    listSearch: { searchModels },
    loadOptions: { getFields },
  };

  webhookMethods = {
    default: {
      /** True when the subscription made for these parameters still exists; a stale or changed one is removed. */
      async checkExists(this: IHookFunctions): Promise<boolean> {
        const data = this.getWorkflowStaticData('node') as Subscription;
        if (!data.webhookId) return false;
        const url = this.getNodeWebhookUrl('default') as string;
        const r = await infinityRequest<{ data: { url: string; enabled: boolean } }>(this, 'GET', `/webhooks/${encodeURIComponent(data.webhookId)}`, {
          allow: [404],
        });
        if (r.status === 200 && r.body.data.url === url && r.body.data.enabled && data.config === configOf(url, wanted(this))) return true;
        if (r.status === 200) await infinityRequest(this, 'DELETE', `/webhooks/${encodeURIComponent(data.webhookId)}`, { allow: [404] });
        forget(data);
        return false;
      },

      async create(this: IHookFunctions): Promise<boolean> {
        const url = this.getNodeWebhookUrl('default') as string;
        const w = wanted(this);
        const workflow = this.getWorkflow();
        const r = await infinityRequest<{ data: { id: string; secret: string } }>(this, 'POST', '/webhooks', {
          body: { url, ...w, description: `n8n: ${workflow.name ?? workflow.id ?? 'workflow'} / ${this.getNode().name}`.slice(0, 500) },
        });
        const data = this.getWorkflowStaticData('node') as Subscription;
        data.webhookId = r.body.data.id;
        data.secret = r.body.data.secret;
        data.config = configOf(url, w);
        return true;
      },

      async delete(this: IHookFunctions): Promise<boolean> {
        const data = this.getWorkflowStaticData('node') as Subscription;
        if (data.webhookId) {
          await infinityRequest(this, 'DELETE', `/webhooks/${encodeURIComponent(data.webhookId)}`, { allow: [404] });
          guards.delete(data.webhookId);
        }
        forget(data);
        return true;
      },
    },
  };

  /** A delivery: signature and timestamp verified (401 otherwise), a replayed webhook-id acknowledged but not run. */
  async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
    const data = this.getWorkflowStaticData('node') as Subscription;
    const req = this.getRequestObject() as unknown as { rawBody?: Buffer; body?: unknown };
    const res = this.getResponseObject();
    const headers = this.getHeaderData();
    const one = (h: string | string[] | undefined) => (Array.isArray(h) ? h[0] : h);
    const id = one(headers['webhook-id']);
    const raw = req.rawBody ?? Buffer.from(JSON.stringify(req.body ?? {}));
    const verdict = data.secret
      ? verifySignature(data.secret, { id, timestamp: one(headers['webhook-timestamp']), signature: one(headers['webhook-signature']) }, raw)
      : { ok: false as const, reason: 'this trigger has no subscription (activate the workflow)' };
    if (!verdict.ok) {
      res.status(401).json({ error: { code: 'SIGNATURE_INVALID', message: `Delivery refused: ${verdict.reason}.` } });
      return { noWebhookResponse: true };
    }
    if (!guardFor(data.webhookId ?? '').firstSeen(id!)) {
      res.status(200).json({ duplicate: true });
      return { noWebhookResponse: true };
    }
    return { workflowData: [this.helpers.returnJsonArray(this.getBodyData())] };
  }
}
