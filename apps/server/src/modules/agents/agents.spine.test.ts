import type { EventOf } from '@infinity/contracts';
import { beforeAll, expect, it } from 'vitest';
import { type TestUser, createApiKey, signUp } from '../../platform/testing/actors.js';
import { Inbox } from '../../platform/testing/events.js';
import { type SeenRequest, fakeAiForSuite } from '../../platform/testing/fake-ai.js';
import { describeEachDb } from '../../platform/testing/harness.js';

/**
 * The agents on the event spine (issue #27, the `agents` realtime channel): agent.status on deploy
 * and pause (after commit) and around each reply, agent.step as a reply happens — on the streamed
 * and the plain message route alike, masked, bounded, and each in its own organization.
 */

const KEY = 'sk-agent-events-key-5d2a71';
const fake = fakeAiForSuite(KEY);

type AgentEvent = EventOf<'agent.status'> | EventOf<'agent.step'>;
const node = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });
const toolNames = (r: SeenRequest) => ((r.body.tools ?? []) as { function: { name: string } }[]).map((t) => t.function.name);
const toolResults = (r: SeenRequest) => (r.body.messages as { role: string; content: string }[]).filter((m) => m.role === 'tool').map((m) => m.content);
/** What a subscriber of one conversation sees: `thinking`, steps by kind, `idle`. */
const sequence = (events: AgentEvent[]) => events.map((e) => (e.type === 'agent.status' ? e.status : e.step.kind));
/** The sequence with each run of text steps as one (how text is coalesced depends on timing; the text is checked apart). */
const shape = (events: AgentEvent[]) => sequence(events).filter((k, i, all) => k !== 'text' || all[i - 1] !== 'text');
const REPLY_WITH_A_TOOL = ['thinking', 'tool-call', 'tool-result', 'text', 'finish', 'idle'];

describeEachDb(
  'agents on the event spine: agent.status and agent.step',
  (h) => {
    const seen = new Inbox<AgentEvent>();
    /** Started as each event arrives: the agent's status as another connection reads it then. */
    const statusAtArrival = new Map<string, Promise<string | undefined>>();
    const org = { a: {} as { user: TestUser; key: string; keyId: string; secretId: string; agentId: string }, b: {} as { key: string; agentId: string } };
    const req = (key: string, method: string, url: string, body?: unknown, headers?: Record<string, string>) =>
      h().request({ method, url, apiKey: key, body, ...(headers ? { headers } : {}) });
    const ok = async (key: string, method: string, url: string, body?: unknown) => {
      const r = await req(key, method, url, body);
      expect(r.statusCode, r.body).toBeLessThan(300);
      return r.json().data as Record<string, unknown> & { id: string };
    };
    const ofConversation = (cid: string) => seen.items.filter((e) => e.conversationId === cid);
    /** Sends a message (streamed or not) and waits for the reply's `idle`. */
    const say = async (key: string, agentId: string, content: string, stream: boolean) => {
      const cid = (await ok(key, 'POST', `/api/v1/agents/${agentId}/conversations`)).id;
      const r = await req(
        key,
        'POST',
        `/api/v1/agents/${agentId}/conversations/${cid}/messages`,
        { content },
        stream ? { accept: 'text/event-stream' } : undefined,
      );
      expect(r.statusCode, r.body).toBe(200);
      await seen.wait((e) => e.type === 'agent.status' && e.conversationId === cid && e.status === 'idle');
      return { cid, body: r.body, events: ofConversation(cid) };
    };

    beforeAll(async () => {
      h().built.events.subscribe('agent.status', (e) => {
        if (!e.conversationId)
          statusAtArrival.set(
            e.id,
            h()
              .db.pool.query('select status from agents where id = $1', [e.agentId])
              .then((r) => r.rows[0]?.status as string | undefined),
          );
        seen.push(e);
      });
      h().built.events.subscribe('agent.step', (e) => seen.push(e));
      const setUp = async () => {
        const user = await signUp(h());
        const k = await createApiKey(h(), user.token, 'admin');
        const secretId = (await ok(k.key, 'POST', '/api/v1/secrets', { name: 'OpenAI', provider: 'openai', value: KEY, baseUrl: `${fake.url}/v1` })).id;
        const flow = await ok(k.key, 'POST', '/api/v1/flows', {
          name: 'Order status',
          description: 'Looks up the status of an order by its id.',
          nodes: [
            node('in', 'core.input', { schema: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] } }),
            node('out', 'core.output', { value: '{{ { "order": $input.orderId, "status": "shipped" } }}' }),
          ],
          edges: [{ id: 'in-out', source: 'in', target: 'out' }],
        });
        // The same agent name in both organizations.
        const agent = await ok(k.key, 'POST', '/api/v1/agents', {
          name: 'Support',
          provider: 'openai',
          model: 'gpt-4o-mini',
          secretId,
          tools: [{ kind: 'flow', ref: flow.id }],
        });
        return { user, key: k.key, keyId: k.id, secretId, agentId: agent.id };
      };
      org.a = await setUp();
      org.b = await setUp();
      // The model calls the order tool once with the order id it is told, then answers from the tool's result.
      fake.script((r) => {
        const said = (r.body.messages as { role: string; content: string }[]).filter((m) => m.role === 'user').at(-1)?.content ?? '';
        // Told "order the key", it puts the agent's own key in the call (a leaked or injected secret).
        const orderId = said === 'order the key' ? KEY : said.replace(/^order /, '');
        if (toolNames(r).length && !toolResults(r).length) return { toolCalls: [{ name: 'flow_Order_status', args: { orderId } }] };
        const result = toolResults(r).join(' ');
        return { text: `Your order is ${result.includes('shipped') ? 'shipped' : 'unknown'}. ${'Thanks for waiting. '.repeat(20).trim()}` };
      });
    });

    it('deploy and pause: agent.status active/paused, delivered after the change commits, never for a change that rolled back', async () => {
      const created = seen.items.find((e) => e.type === 'agent.status' && e.agentId === org.a.agentId);
      expect(created).toMatchObject({ status: 'active', orgId: org.a.user.orgId, permission: 'agents:read', actor: { type: 'apiKey', id: org.a.keyId } });
      expect(await statusAtArrival.get(created!.id)).toBe('active');

      const url = `/api/v1/agents/${org.a.agentId}`;
      const paused = await ok(org.a.key, 'PATCH', url, { status: 'paused' });
      const event = await seen.wait((e) => e.type === 'agent.status' && e.agentId === org.a.agentId && e.status === 'paused');
      expect(await statusAtArrival.get(event.id), 'agent.status arrived before its change was visible').toBe('paused');
      // Refused inside the transaction (stale If-Match): no event.
      const stale = await req(org.a.key, 'PATCH', url, { status: 'active' }, { 'if-match': '"1"' });
      expect(stale.statusCode).toBe(412);
      // A change that is not a deploy or a pause: no event.
      await ok(org.a.key, 'PATCH', url, { name: 'Support desk' });
      await ok(org.a.key, 'PATCH', url, { status: 'active' });
      const active = await seen.wait((e) => e.type === 'agent.status' && e.agentId === org.a.agentId && e.status === 'active' && e.id !== created!.id);
      expect(await statusAtArrival.get(active.id)).toBe('active');
      const deploys = seen.items.filter((e) => e.type === 'agent.status' && e.agentId === org.a.agentId && !e.conversationId);
      expect(deploys.map((e) => (e as EventOf<'agent.status'>).status)).toEqual(['active', 'paused', 'active']);
      expect(paused.status).toBe('paused');
    });

    for (const stream of [false, true])
      it(`a reply with a tool call (${stream ? 'streamed' : 'plain JSON'}): thinking, the tool call and its result, the text, finish, idle`, async () => {
        const r = await say(org.a.key, org.a.agentId, 'order A-17', stream);
        const reply = stream
          ? (JSON.parse(/event: message\ndata: (.+)/.exec(r.body)![1]!) as { message: { id: string; content: string } })
          : (JSON.parse(r.body) as { data: { message: { id: string; content: string } } }).data;
        expect(shape(r.events)).toEqual(REPLY_WITH_A_TOOL);
        const steps = r.events.flatMap((e) => (e.type === 'agent.step' ? [e.step] : []));
        const call = steps.find((s) => s.kind === 'tool-call')!;
        const result = steps.find((s) => s.kind === 'tool-result')!;
        expect(call).toMatchObject({ tool: 'flow_Order_status', input: { orderId: 'A-17' } });
        expect(result).toMatchObject({
          tool: 'flow_Order_status',
          toolCallId: (call as { toolCallId: string }).toolCallId,
          output: { order: 'A-17', status: 'shipped' },
        });
        expect(steps.flatMap((s) => (s.kind === 'text' ? [s.text] : [])).join('')).toBe(reply.message.content);
        expect(reply.message.content).toMatch(/^Your order is shipped\./);
        expect(steps.at(-1)).toEqual({ kind: 'finish', messageId: reply.message.id });
        for (const e of r.events)
          expect(e).toMatchObject({ orgId: org.a.user.orgId, permission: 'agents:read', agentId: org.a.agentId, actor: { type: 'apiKey', id: org.a.keyId } });
        // The finish step comes once the reply is stored.
        const stored = await h().db.pool.query('select role from agent_messages where id = $1', [reply.message.id]);
        expect(stored.rows).toEqual([{ role: 'assistant' }]);
      });

    it('nothing crosses organizations: each conversation’s events carry its own organization and agent', async () => {
      const a = await say(org.a.key, org.a.agentId, 'order A-1', false);
      const b = await say(org.b.key, org.b.agentId, 'order B-1', false);
      expect(a.events.length).toBeGreaterThanOrEqual(6);
      expect(b.events.length).toBeGreaterThanOrEqual(6);
      for (const e of a.events) expect(e).toMatchObject({ orgId: org.a.user.orgId, agentId: org.a.agentId });
      for (const e of b.events) expect(e.agentId).toBe(org.b.agentId);
      expect(new Set(b.events.map((e) => e.orgId)).size).toBe(1);
      expect(b.events[0]!.orgId).not.toBe(org.a.user.orgId);
      // Every agent event so far names an agent of the organization it is for.
      for (const e of seen.items) {
        const owner = await h().db.pool.query('select org_id from agents where id = $1', [e.agentId]);
        expect(owner.rows[0]?.org_id, `${e.type} of ${e.agentId} in ${e.orgId}`).toBe(e.orgId);
      }
      // Org A's key cannot read org B's agent (its events name an agent A's members cannot see).
      expect((await req(org.a.key, 'GET', `/api/v1/agents/${org.b.agentId}`)).statusCode).toBe(404);
    });

    it('a secret in a tool input is masked in the events, the stream and the stored messages; a large tool result is bounded', async () => {
      // The model puts the agent's own key into the tool call; the flow echoes it back in its output.
      const r = await say(org.a.key, org.a.agentId, 'order the key', true);
      const steps = r.events.flatMap((e) => (e.type === 'agent.step' ? [e.step] : []));
      expect(JSON.stringify(r.events)).not.toContain(KEY);
      expect(steps.find((s) => s.kind === 'tool-call')).toMatchObject({ input: { orderId: '[redacted]' } });
      expect(steps.find((s) => s.kind === 'tool-result')).toMatchObject({ output: { order: '[redacted]', status: 'shipped' } });
      expect(r.body).not.toContain(KEY);
      const stored = await ok(org.a.key, 'GET', `/api/v1/agents/${org.a.agentId}/conversations/${r.cid}/messages`);
      expect(JSON.stringify(stored)).toContain('[redacted]');
      expect(JSON.stringify(stored)).not.toContain(KEY);
      expect(h().logs.join('\n')).not.toContain(KEY);

      const long = `L-${'9'.repeat(3000)}`;
      const big = await say(org.a.key, org.a.agentId, `order ${long}`, false);
      const bigSteps = big.events.flatMap((e) => (e.type === 'agent.step' ? [e.step] : []));
      for (const kind of ['tool-call', 'tool-result'] as const) {
        const s = bigSteps.find((x) => x.kind === kind)!;
        expect(s, kind).toMatchObject(kind === 'tool-call' ? { input: { $truncated: true } } : { output: { $truncated: true } });
        expect(JSON.stringify(s).length).toBeLessThanOrEqual(2048);
      }
    });

    it('a published agent’s consumer and a flow’s agent node: the same events, naming no actor and the flow', async () => {
      const slug = `events-${h().kind}`;
      expect((await h().request({ method: 'POST', url: `/api/v1/agents/${org.a.agentId}/publish`, token: org.a.user.token, body: { slug } })).statusCode).toBe(
        200,
      );
      const start = await h().request({ method: 'POST', url: `/api/v1/chat/${slug}/conversations` });
      expect(start.statusCode, start.body).toBe(201);
      const { id: cid, token } = start.json().data as { id: string; token: string };
      const said = await h().request({
        method: 'POST',
        url: `/api/v1/chat/${slug}/conversations/${cid}/messages`,
        headers: { 'x-conversation-token': token, accept: 'text/event-stream' },
        body: { content: 'order C-3' },
      });
      expect(said.statusCode).toBe(200);
      await seen.wait((e) => e.type === 'agent.status' && e.conversationId === cid && e.status === 'idle');
      const consumer = ofConversation(cid);
      expect(shape(consumer)).toEqual(REPLY_WITH_A_TOOL);
      for (const e of consumer) {
        expect(e).toMatchObject({ orgId: org.a.user.orgId, agentId: org.a.agentId });
        expect(e).not.toHaveProperty('actor');
      }

      const flow = await ok(org.a.key, 'POST', '/api/v1/flows', {
        name: 'Ask the agent',
        nodes: [node('in', 'core.input'), node('ag', 'ai.agent', { agentId: org.a.agentId, message: '{{ $input.q }}' }), node('out', 'core.output')],
        edges: [
          { id: 'in-ag', source: 'in', target: 'ag' },
          { id: 'ag-out', source: 'ag', target: 'out' },
        ],
      });
      const run = await req(org.a.key, 'POST', `/api/v1/flows/${flow.id}/run?wait=true`, { input: { q: 'order D-4' } });
      expect(run.json().data.status, run.body).toBe('succeeded');
      const finish = await seen.wait((e) => e.type === 'agent.step' && e.step.kind === 'finish' && e.actor?.type === 'flow');
      expect(finish).toMatchObject({ orgId: org.a.user.orgId, agentId: org.a.agentId, actor: { type: 'flow', id: flow.id } });
    });

    it('a reply that fails: an error step (code and scrubbed message), then idle; nothing is stored as a reply', async () => {
      const wrong = (
        await ok(org.a.key, 'POST', '/api/v1/secrets', { name: 'Wrong', provider: 'openai', value: 'sk-wrong-key-00000001', baseUrl: `${fake.url}/v1` })
      ).id;
      const agent = await ok(org.a.key, 'POST', '/api/v1/agents', { name: 'Broken', provider: 'openai', model: 'gpt-4o-mini', secretId: wrong });
      const cid = (await ok(org.a.key, 'POST', `/api/v1/agents/${agent.id}/conversations`)).id;
      const r = await req(org.a.key, 'POST', `/api/v1/agents/${agent.id}/conversations/${cid}/messages`, { content: 'hello' });
      expect(r.statusCode).toBeGreaterThanOrEqual(400);
      await seen.wait((e) => e.type === 'agent.status' && e.conversationId === cid && e.status === 'idle');
      const events = ofConversation(cid);
      expect(sequence(events)).toEqual(['thinking', 'error', 'idle']);
      const step = (events[1] as EventOf<'agent.step'>).step;
      expect(step).toMatchObject({ kind: 'error', code: r.json().error.code, message: r.json().error.message });
      expect(JSON.stringify(events)).not.toContain('sk-wrong-key-00000001');
    });
  },
  { INFINITY_HTTP_ALLOW: '127.0.0.1/32', INFINITY_QUEUE_POLL: '100' },
);
