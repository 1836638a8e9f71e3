import type { FlowEdge, FlowNode } from '../engine/index.js';

/** Starting points offered by `POST /flows?template=…` and the editor. */
export interface FlowTemplate {
  name: string;
  description: string;
  nodes: FlowNode[];
  edges: FlowEdge[];
  /** Models its data nodes write to: created with these fields when the organization lacks them. */
  models?: { name: string; label: string; description: string; fields: Record<string, unknown>[] }[];
}

const node = (id: string, type: string, name: string, x: number, params: Record<string, unknown>): FlowNode => ({
  id,
  type,
  typeVersion: 1,
  name,
  position: { x, y: 0 },
  params,
});
const edge = (id: string, source: string, target: string): FlowEdge => ({ id, source, sourceHandle: 'main', target, targetHandle: 'main' });

export const TEMPLATES: Record<string, FlowTemplate> = {
  blank: {
    name: 'Untitled flow',
    description: 'A manual trigger, ready for nodes.',
    nodes: [node('trigger', 'trigger.manual', 'Start', 0, {})],
    edges: [],
  },
  'webhook-to-record': {
    name: 'Webhook to record',
    description: 'Receives JSON on a webhook, stores it as a record of the "leads" model, and answers with the new record.',
    nodes: [
      node('hook', 'trigger.webhook', 'Webhook', 0, { path: 'lead', method: 'POST', respond: 'whenFinished' }),
      node('shape', 'core.transform', 'Shape', 250, { expression: '{ "email": $input.body.email, "name": $input.body.name }' }),
      node('save', 'data.create', 'Save lead', 500, { model: 'leads', values: '{{ $input }}' }),
      node('reply', 'core.respond', 'Reply', 750, { status: 201, body: '{{ $input }}' }),
    ],
    edges: [edge('e1', 'hook', 'shape'), edge('e2', 'shape', 'save'), edge('e3', 'save', 'reply')],
    models: [
      {
        name: 'leads',
        label: 'Leads',
        description: 'Leads received by the "Webhook to record" flow.',
        fields: [
          { name: 'email', label: 'Email', type: 'string', max: 320 },
          { name: 'name', label: 'Name', type: 'string', max: 200 },
        ],
      },
    ],
  },
  'scheduled-http-to-record': {
    name: 'Scheduled fetch to record',
    description: 'Every hour, fetches JSON from a URL and stores it as a record of the "snapshots" model.',
    nodes: [
      node('tick', 'trigger.schedule', 'Every hour', 0, { cron: '0 0 * * * *', timezone: 'UTC' }),
      node('fetch', 'core.http', 'Fetch', 250, { method: 'GET', url: 'https://example.com/data.json', response: 'json' }),
      node('save', 'data.create', 'Save snapshot', 500, { model: 'snapshots', values: { payload: '{{ $input.body }}', fetched_at: '{{ $now() }}' } }),
    ],
    edges: [edge('e1', 'tick', 'fetch'), edge('e2', 'fetch', 'save')],
    models: [
      {
        name: 'snapshots',
        label: 'Snapshots',
        description: 'JSON fetched by the "Scheduled fetch to record" flow.',
        fields: [
          { name: 'payload', label: 'Payload', type: 'json' },
          { name: 'fetched_at', label: 'Fetched at', type: 'datetime' },
        ],
      },
    ],
  },
};
