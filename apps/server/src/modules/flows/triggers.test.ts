import { expect, it } from 'vitest';
import type { EventOf, TypedEvent } from '../../platform/events/index.js';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';
import { type RecordEvent, triggeredExecutionId } from './triggers.js';

const node = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });
const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, target });

describeEachDb('record triggers: a durable consumer of record events', (h) => {
  let orgId: string;
  let key: string;
  let flowId: string;
  const req = (method: string, url: string, body?: unknown) => h().request({ method, url, apiKey: key, body });
  const probe = (type: RecordEvent['type'], model = 'leads', actor: RecordEvent['actor'] = { type: 'user', id: 'u' }) =>
    ({ type, orgId, model, actor }) as RecordEvent;
  /** The next event of a type in this organization, caught as the spine delivers it. */
  const next = <T extends 'record.created' | 'record.deleted' | 'flow.saved'>(type: T) =>
    new Promise<EventOf<T>>((resolve) => {
      const off = h().built.events.subscribe(type, (e: TypedEvent) => {
        if (e.orgId !== orgId) return;
        off();
        resolve(e as EventOf<T>);
      });
    });
  const executions = async () => (await req('GET', `/api/v1/executions?flowId=${flowId}&limit=100`)).json().data as { id: string }[];
  const inputOf = async (id: string) => (await req('GET', `/api/v1/executions/${id}`)).json().data.input as unknown;

  it('wants an event only while an active trigger listens to that model and event, and never a flow’s own writes', async () => {
    const u = await signUp(h());
    orgId = u.orgId;
    key = (await createApiKey(h(), u.token, 'admin')).key;
    await req('POST', '/api/v1/models', { name: 'leads', fields: [{ name: 'email', type: 'string' }] });
    flowId = (
      await req('POST', '/api/v1/flows', {
        name: 'On leads',
        nodes: [node('on', 'trigger.record', { model: 'leads', events: ['created', 'deleted'] }), node('out', 'core.output', { value: '{{ $input }}' })],
        edges: [edge('on', 'out')],
      })
    ).json().data.id as string;
    const hub = h().built.triggers;
    expect(hub.wants(probe('record.created'))).toBe(false);

    expect((await req('PATCH', `/api/v1/flows/${flowId}`, { active: true })).statusCode).toBe(200);
    // Answered after this process took in the flow.saved: the next write finds the trigger.
    expect(hub.wants(probe('record.created'))).toBe(true);
    expect(hub.wants(probe('record.deleted'))).toBe(true);
    expect(hub.wants(probe('record.updated'))).toBe(false);
    expect(hub.wants(probe('record.created', 'other'))).toBe(false);
    expect(hub.wants({ ...probe('record.created'), orgId: '00000000-0000-7000-8000-000000000000' })).toBe(false);
    expect(hub.wants(probe('record.created', 'leads', { type: 'flow', id: flowId }))).toBe(false);
    expect(hub.activeFlow(flowId)?.id).toBe(flowId);
  });

  it('starts one execution per event, keyed by the event id: a redelivered event starts nothing', async () => {
    const created = next('record.created');
    const id = (await req('POST', '/api/v1/data/leads', { email: 'a@x.io' })).json().data.id as string;
    const e = await created;
    // Delivered again (twice, as an outbox might after a lost lease): it joins or finds the first.
    await h().built.triggers.onRecord(e);
    await h().built.triggers.onRecord(e);
    const list = await executions();
    expect(list).toHaveLength(1);
    const trigger = { flow: { id: flowId, org_id: orgId, version: 1 }, nodeId: 'on', model: 'leads', events: ['created'], filter: undefined };
    expect(list[0]!.id).toBe(triggeredExecutionId(e, trigger));
    expect(await inputOf(list[0]!.id)).toMatchObject({ event: 'created', model: 'leads', record: { id, email: 'a@x.io' }, changed: null });

    // A deleted record reaches the flow as it was before the delete.
    const deleted = next('record.deleted');
    expect((await req('DELETE', `/api/v1/data/leads/${id}`)).statusCode).toBe(204);
    await h().built.triggers.onRecord(await deleted);
    const after = await executions();
    expect(after).toHaveLength(2);
    expect(await Promise.all(after.map((x) => inputOf(x.id)))).toContainEqual({
      event: 'deleted',
      model: 'leads',
      record: expect.objectContaining({ id, email: 'a@x.io' }),
      changed: null,
    });
  });

  it('follows flow.saved from any process: a flow activated elsewhere is loaded when its event arrives', async () => {
    const hub = h().built.triggers;
    const saved = next('flow.saved');
    expect((await req('PATCH', `/api/v1/flows/${flowId}`, { active: false })).statusCode).toBe(200);
    expect((await saved).change).toBe('deactivated');
    expect(hub.wants(probe('record.created'))).toBe(false);
    expect(hub.activeFlow(flowId)).toBeUndefined();

    // Another process activated it (its row is committed) and its flow.saved arrives over the transport.
    await h().db.pool.query(`update flows set active = true where id = $1`, [flowId]);
    expect(hub.wants(probe('record.created'))).toBe(false);
    const event: TypedEvent = {
      id: crypto.randomUUID(),
      at: new Date().toISOString(),
      type: 'flow.saved',
      orgId,
      permission: 'flows:read',
      flowId,
      version: 1,
      change: 'activated',
    };
    h().built.events.publish(event);
    await hub.settled();
    expect(hub.wants(probe('record.created'))).toBe(true);

    // Deleting the flow drops its triggers.
    expect((await req('DELETE', `/api/v1/flows/${flowId}`)).statusCode).toBe(204);
    expect(hub.wants(probe('record.created'))).toBe(false);
  });
});
