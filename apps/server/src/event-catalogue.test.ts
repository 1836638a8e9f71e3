import { EVENT_TYPES, type DomainEventType } from '@infinity/contracts';
import { beforeAll, expect, it } from 'vitest';
import type { EventOf, TypedEvent } from './platform/events/index.js';
import { type TestUser, addMember, createApiKey, signUp } from './platform/testing/actors.js';
import { fakeAiForSuite } from './platform/testing/fake-ai.js';
import { describeEachDb } from './platform/testing/harness.js';
import { WsClient, listening } from './platform/testing/realtime.js';

/**
 * The event catalogue, end to end (issue #26): one real action per event type, through the HTTP
 * API of a real app; each type must arrive once, after the commit (the change is visible to
 * another connection when it arrives), and a change that rolls back must deliver nothing.
 * A type added to the catalogue without a case here fails ("no case for …").
 */

const node = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });
const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, target });

type Match = (e: TypedEvent) => boolean;

/** The model provider of the agent cases (loopback). */
const AI_KEY = 'sk-catalogue-fake-ai-0002';
const fakeAi = fakeAiForSuite(AI_KEY);

interface Case<T extends DomainEventType> {
  /** Performs the action; answers which event of type T it caused. */
  act: () => Promise<(e: EventOf<T>) => boolean>;
  /** What the payload must hold. */
  shape: (e: EventOf<T>) => void;
  /** Whether the change was visible to another connection when the event arrived (after commit). */
  visible: (e: EventOf<T>) => Promise<boolean>;
}

describeEachDb(
  'event catalogue: every type once, after commit; nothing after a rollback',
  (h) => {
    let owner: TestUser;
    let key: string;
    let schema: string;
    const req = async (method: string, url: string, body?: unknown) => {
      const r = await h().request({ method, url, apiKey: key, body });
      return { status: r.statusCode, data: r.statusCode < 300 && r.body ? r.json().data : r.body ? r.json().error : undefined };
    };
    const ok = async (method: string, url: string, body?: unknown) => {
      const r = await req(method, url, body);
      expect(r.status, JSON.stringify(r.data)).toBeLessThan(300);
      return r.data;
    };
    const query = async (text: string, params: unknown[]) => (await h().db.pool.query(text, params)).rows as Record<string, unknown>[];

    // Every catalogue event of the organization, in arrival order, each with the after-commit check started at arrival.
    const seen: { event: TypedEvent; visible: Promise<boolean> | undefined }[] = [];
    let visibleOf: (e: TypedEvent) => Promise<boolean> | undefined = () => undefined;
    const arrived = (match: Match) => seen.filter((s) => match(s.event));
    const waiting: { ready: () => boolean; resolve: () => void }[] = [];
    /** Resolves once `ready()` holds, checked as each event arrives. */
    const when = (ready: () => boolean) =>
      new Promise<void>((resolve) => {
        if (ready()) resolve();
        else waiting.push({ ready, resolve });
      });
    const barrierEvent: Match = (e) => e.type === 'model.changed' && e.model === 'items' && e.change === 'updated';
    let barriers = 0;
    /** A change committed after everything before it: once its event is here, so is every earlier event of this process. */
    const barrier = async () => {
      const n = ++barriers;
      await ok('PATCH', '/api/v1/models/items', { description: `barrier ${n}` });
      await when(() => arrived(barrierEvent).length >= n);
    };

    beforeAll(async () => {
      owner = await signUp(h());
      key = (await createApiKey(h(), owner.token, 'admin')).key;
      schema = (await query('select schema_name from organizations where id = $1', [owner.orgId]))[0]!.schema_name as string;
      h().built.events.subscribe('*', (raw) => {
        if (raw.orgId !== owner.orgId || !Object.hasOwn(EVENT_TYPES, raw.type)) return;
        const e = raw as unknown as TypedEvent;
        seen.push({ event: e, visible: visibleOf(e) });
        for (const w of [...waiting])
          if (w.ready()) {
            waiting.splice(waiting.indexOf(w), 1);
            w.resolve();
          }
      });
      visibleOf = (e) => (CASES[e.type] as Case<DomainEventType> | undefined)?.visible(e);
      await ok('POST', '/api/v1/models', { name: 'items', fields: [{ name: 'title', type: 'string', unique: true }] });
    });

    // Shared fixtures, made once by whichever case needs them first.
    const once = <T>(make: () => Promise<T>) => {
      let p: Promise<T> | undefined;
      return () => (p ??= make());
    };
    const item = once(async () => (await ok('POST', '/api/v1/data/items', { title: 'first' })).id as string);
    const run = (name: string, nodes: ReturnType<typeof node>[]) =>
      once(async () => {
        const flow = await ok('POST', '/api/v1/flows', { name, nodes, edges: nodes.slice(1).map((n, i) => edge(nodes[i]!.id, n.id)) });
        const queued = await ok('POST', `/api/v1/flows/${flow.id as string}/run`, { input: { x: 1 } });
        const done = await h().built.runner.wait(queued.id as string, 30_000);
        return { flowId: flow.id as string, executionId: queued.id as string, status: done?.status };
      });
    const okRun = run('Runs', [node('start', 'trigger.manual'), node('out', 'core.output', { value: '{{ $input.x }}' })]);
    const failedRun = run('Fails', [node('start', 'trigger.manual'), node('boom', 'core.code', { source: 'throw new Error("boom")' })]);
    const alert = once(async () => {
      // A plan whose agent limit one agent reaches: the 100% alert and its notification.
      await query(`update organizations set plan = 'pro' where id = $1`, [owner.orgId]);
      h().built.quotas.forget(owner.orgId);
      const secret = await ok('POST', '/api/v1/secrets', { name: 'llm', provider: 'openai', value: 'sk-catalogue-test-0001' });
      await ok('POST', '/api/v1/agents', { name: 'Agent', provider: 'openai', model: 'gpt-4o-mini', secretId: secret.id });
      await h().built.quotas.settle();
      const n = (await ok('GET', '/api/v1/notifications')) as { id: string }[];
      return n[0]!.id;
    });
    // The alert's agent (the plan allows one), answering through the fake provider.
    const agent = once(async () => {
      await alert();
      const secret = await ok('POST', '/api/v1/secrets', { name: 'fake llm', provider: 'openai', value: AI_KEY, baseUrl: `${fakeAi.url}/v1` });
      const [first] = (await ok('GET', '/api/v1/agents')) as { id: string }[];
      await ok('PATCH', `/api/v1/agents/${first!.id}`, { secretId: secret.id });
      return first!.id;
    });
    const executionRow = async (id: string) => (await query('select status from executions where id = $1', [id]))[0]?.status as string | undefined;
    const itemRow = async (id: string) => (await query(`select title from "${schema}".items where id = $1`, [id]))[0]?.title as string | undefined;

    const CASES: { [T in DomainEventType]?: Case<T> } = {
      'record.created': {
        act: async () => {
          const id = await item();
          return (e) => e.recordId === id;
        },
        shape: (e) => expect(e).toMatchObject({ model: 'items', permission: 'records:read', after: { title: 'first' } }),
        visible: async (e) => (await itemRow(e.recordId)) === e.after.title,
      },
      'record.updated': {
        act: async () => {
          const id = await item();
          await ok('PATCH', `/api/v1/data/items/${id}`, { title: 'second' });
          return (e) => e.recordId === id;
        },
        shape: (e) => expect(e).toMatchObject({ changed: ['title'], before: { title: 'first' }, after: { title: 'second' } }),
        visible: async (e) => (await itemRow(e.recordId)) === e.after.title,
      },
      'record.deleted': {
        act: async () => {
          const id = (await ok('POST', '/api/v1/data/items', { title: 'doomed' })).id as string;
          await ok('DELETE', `/api/v1/data/items/${id}`);
          return (e) => e.recordId === id;
        },
        shape: (e) => expect(e).toMatchObject({ model: 'items', before: { title: 'doomed' } }),
        visible: async (e) => (await itemRow(e.recordId)) === undefined,
      },
      'execution.queued': {
        act: async () => {
          const r = await okRun();
          return (e) => e.executionId === r.executionId;
        },
        shape: (e) => expect(e).toMatchObject({ permission: 'executions:read', trigger: 'manual' }),
        visible: async (e) => (await executionRow(e.executionId)) !== undefined,
      },
      'execution.node.started': {
        act: async () => {
          const r = await okRun();
          return (e) => e.executionId === r.executionId && e.nodeId === 'out';
        },
        shape: (e) => expect(e).toMatchObject({ nodeType: 'core.output' }),
        visible: async (e) => (await executionRow(e.executionId)) !== undefined,
      },
      'execution.node.finished': {
        act: async () => {
          const r = await okRun();
          return (e) => e.executionId === r.executionId && e.nodeId === 'out';
        },
        shape: (e) => expect(e).toMatchObject({ nodeType: 'core.output', status: 'succeeded' }),
        visible: async (e) => (await executionRow(e.executionId)) !== undefined,
      },
      'execution.succeeded': {
        act: async () => {
          const r = await okRun();
          expect(r.status).toBe('succeeded');
          return (e) => e.executionId === r.executionId;
        },
        shape: (e) => expect(e.durationMs).toBeGreaterThanOrEqual(0),
        visible: async (e) => (await executionRow(e.executionId)) === 'succeeded',
      },
      'execution.failed': {
        act: async () => {
          const r = await failedRun();
          expect(r.status).toBe('failed');
          return (e) => e.executionId === r.executionId;
        },
        shape: (e) => expect(e.error).toMatchObject({ nodeId: 'boom' }),
        visible: async (e) => (await executionRow(e.executionId)) === 'failed',
      },
      'flow.saved': {
        act: async () => {
          const flow = await ok('POST', '/api/v1/flows', { name: 'Saved', nodes: [node('start', 'trigger.manual')] });
          return (e) => e.flowId === flow.id && e.change === 'created';
        },
        shape: (e) => expect(e).toMatchObject({ permission: 'flows:read', version: 1 }),
        visible: async (e) => (await query('select 1 from flows where id = $1', [e.flowId])).length === 1,
      },
      'flow.presence': {
        act: async () => {
          const flow = await ok('POST', '/api/v1/flows', { name: 'Watched', nodes: [node('start', 'trigger.manual')] });
          const client = await WsClient.as(await listening(h().built), owner.token);
          const opened = await client.subscribe('f', { channel: 'flow', flowId: flow.id });
          expect(opened.type, JSON.stringify(opened)).toBe('subscribed');
          return (e) => e.flowId === flow.id && e.state === 'open';
        },
        shape: (e) => expect(e).toMatchObject({ permission: 'flows:read', userId: owner.id, connectionId: expect.any(String) }),
        visible: async (e) =>
          (await query('select 1 from realtime_presence where connection_id = $1 and flow_id = $2', [e.connectionId, e.flowId])).length === 1,
      },
      'model.changed': {
        act: async () => {
          await ok('POST', '/api/v1/models', { name: 'widgets', fields: [{ name: 'size', type: 'integer' }] });
          return (e) => e.model === 'widgets' && e.change === 'created';
        },
        shape: (e) => expect(e).toMatchObject({ permission: 'models:read', actor: { type: 'apiKey' } }),
        visible: async (e) => e.change === 'deleted' || (await query('select 1 from models where org_id = $1 and name = $2', [e.orgId, e.model])).length === 1,
      },
      'member.changed': {
        act: async () => {
          const member = await signUp(h());
          await addMember(h(), owner, member, 'editor');
          await ok('PATCH', `/api/v1/members/${member.id}`, { role: 'viewer' });
          return (e) => e.userId === member.id && e.role === 'viewer';
        },
        shape: (e) => expect(e.permission).toBe('members:read'),
        visible: async (e) =>
          (await query('select role from memberships where org_id = $1 and user_id = $2', [e.orgId, e.userId]))[0]?.role === (e.role ?? undefined),
      },
      'key.revoked': {
        act: async () => {
          const k = await createApiKey(h(), owner.token, 'viewer');
          await ok('DELETE', `/api/v1/api-keys/${k.id}`);
          return (e) => e.keyId === k.id;
        },
        shape: (e) => expect(e.keyHash).toMatch(/^[0-9a-f]{64}$/),
        visible: async (e) => (await query('select revoked_at from api_keys where id = $1', [e.keyId]))[0]?.revoked_at != null,
      },
      'usage.alert': {
        act: async () => {
          const id = await alert();
          return (e) => e.notificationId === id;
        },
        shape: (e) => expect(e).toMatchObject({ permission: 'usage:read', metric: 'agents', percent: 100, used: 1, limit: 1 }),
        visible: async (e) => (await query('select 1 from notifications where id = $1', [e.notificationId])).length === 1,
      },
      'notification.created': {
        act: async () => {
          const id = await alert();
          return (e) => e.notificationId === id;
        },
        shape: (e) => expect(e).toMatchObject({ permission: 'notifications:read', kind: 'usage.alert', title: 'Limit reached: agents' }),
        visible: async (e) => (await query('select 1 from notifications where id = $1', [e.notificationId])).length === 1,
      },
      'agent.status': {
        act: async () => {
          const id = await agent();
          await ok('PATCH', `/api/v1/agents/${id}`, { status: 'paused' });
          return (e) => e.agentId === id && e.status === 'paused';
        },
        shape: (e) => {
          expect(e).toMatchObject({ permission: 'agents:read', actor: { type: 'apiKey' } });
          expect(e.conversationId).toBeUndefined();
        },
        visible: async (e) => (await query('select status from agents where id = $1', [e.agentId]))[0]?.status === 'paused',
      },
      'agent.step': {
        act: async () => {
          const id = await agent();
          await ok('PATCH', `/api/v1/agents/${id}`, { status: 'active' });
          const conversation = await ok('POST', `/api/v1/agents/${id}/conversations`, {});
          await ok('POST', `/api/v1/agents/${id}/conversations/${conversation.id as string}/messages`, { content: 'ping' });
          // One reply has several steps; its finish is the one that says it is stored.
          return (e) => e.conversationId === conversation.id && e.step.kind === 'finish';
        },
        shape: (e) =>
          expect(e).toMatchObject({ permission: 'agents:read', actor: { type: 'apiKey' }, step: { kind: 'finish', messageId: expect.any(String) } }),
        visible: async (e) =>
          e.step.kind === 'finish' && (await query('select content from agent_messages where id = $1', [e.step.messageId]))[0]?.content === 'echo: ping',
      },
      'webhook.changed': {
        act: async () => {
          const w = await ok('POST', '/api/v1/webhooks', { url: 'https://hooks.example.invalid/catalogue', events: ['usage.alert'] });
          return (e) => e.webhookId === w.id && e.change === 'created';
        },
        shape: (e) => expect(e).toMatchObject({ permission: 'webhooks:manage', actor: { type: 'apiKey' } }),
        visible: async (e) => (await query('select 1 from webhooks where id = $1', [e.webhookId])).length === 1,
      },
    };

    /** Each case's event, by type, once it has arrived: the last test counts them again. */
    const found = new Map<DomainEventType, Match>();

    for (const type of Object.keys(EVENT_TYPES) as DomainEventType[]) {
      it(`${type} arrives once, after commit`, async () => {
        const c = CASES[type] as Case<DomainEventType> | undefined;
        if (!c) throw new Error(`no case for ${type}`);
        const which = await c.act();
        const match: Match = (e) => e.type === type && which(e);
        // Delivered at commit; the barrier bounds the wait for a type that never comes.
        if (!arrived(match).length) await barrier();
        const hits = arrived(match);
        expect(
          hits.map((s) => s.event.type),
          `no ${type} arrived`,
        ).toEqual([type]);
        c.shape(hits[0]!.event);
        expect(await hits[0]!.visible, `${type} arrived before its change was visible`).toBe(true);
        found.set(type, match);
      });
    }

    it('a change that rolls back delivers nothing; every event above arrived exactly once', async () => {
      const before = seen.length;
      // A bulk with one bad item: nothing of it is written, no record event.
      expect((await req('POST', '/api/v1/data/items/bulk', { op: 'create', items: [{ title: 'rb-1' }, { title: 'rb-1' }] })).status).toBe(409);
      // An action whose second step fails: its first step's record is rolled back too.
      const action = await ok('POST', '/api/v1/actions', {
        name: 'Twice',
        params: [{ name: 't', type: 'string', required: true }],
        steps: [
          { id: 'a', op: 'create', model: 'items', values: { title: '{{params.t}}' } },
          { id: 'b', op: 'create', model: 'items', values: { title: '{{params.t}}' } },
        ],
      });
      expect((await req('POST', `/api/v1/actions/${action.id as string}/run`, { params: { t: 'rb-action' } })).status).toBe(422);
      // A model change refused by the database (its DDL rolled back).
      expect((await req('PATCH', '/api/v1/models/items', { addFields: [{ name: 'due', type: 'date', required: true }] })).status).toBe(422);
      // A flow save refused after the row was locked: the version check fails inside the transaction.
      const flow = await ok('POST', '/api/v1/flows', { name: 'Locked', nodes: [node('start', 'trigger.manual')] });
      const stale = await h().request({
        method: 'PATCH',
        url: `/api/v1/flows/${flow.id as string}`,
        apiKey: key,
        headers: { 'if-match': '"99"' },
        body: { name: 'x' },
      });
      expect(stale.statusCode).toBe(412);
      await barrier();
      const after = seen.slice(before).map((s) => s.event);
      const rolledBack = after.filter(
        (e) =>
          (e.type === 'record.created' && ['rb-1', 'rb-action'].includes(e.after.title as string)) ||
          (e.type === 'flow.saved' && e.flowId === flow.id && e.change !== 'created'),
      );
      expect(rolledBack).toEqual([]);
      // The refused model change told nobody: the one model.changed of `items` here is the barrier's.
      expect(after.filter(barrierEvent)).toHaveLength(1);
      for (const [type, match] of found) expect(arrived(match).length, `${type} arrived more than once`).toBe(1);
    });
  },
  { INFINITY_PLAN_LIMITS: JSON.stringify({ pro: { agents: 1 } }), INFINITY_QUEUE_POLL: '100', INFINITY_HTTP_ALLOW: '127.0.0.1/32' },
);
