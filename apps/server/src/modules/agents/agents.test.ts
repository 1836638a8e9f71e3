import { expect, it } from 'vitest';
import { addMember, createApiKey, signUp } from '../../platform/testing/actors.js';
import { type SeenRequest, fakeAiForSuite, lastUserText } from '../../platform/testing/fake-ai.js';
import { describeEachDb } from '../../platform/testing/harness.js';

const KEY = 'sk-agent-test-key-7c1e99';
const fake = fakeAiForSuite(KEY);

const node = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });
const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, target });
const systemOf = (r: SeenRequest) => (r.body.messages as { role: string; content: string }[]).find((m) => m.role === 'system')?.content ?? '';
const toolNames = (r: SeenRequest) => ((r.body.tools ?? []) as { function: { name: string } }[]).map((t) => t.function.name);
const hasToolResults = (r: SeenRequest) => (r.body.messages as { role: string }[]).some((m) => m.role === 'tool');

/** Server-sent events of a response body, in order. */
function events(body: string): { event: string; data: Record<string, unknown> }[] {
  return body
    .split('\n\n')
    .filter((b) => b.trim())
    .map((b) => ({ event: /^event: (.+)$/m.exec(b)![1]!, data: JSON.parse(/^data: (.+)$/m.exec(b)![1]!) as Record<string, unknown> }));
}

describeEachDb(
  'agents: tools, memory, streaming, conversations',
  (h) => {
    let owner: Awaited<ReturnType<typeof signUp>>;
    let key: string;
    let secretId: string;
    let flowId: string;
    let agentId: string;
    const req = (method: string, url: string, body?: unknown, headers?: Record<string, string>) =>
      h().request({ method, url, apiKey: key, body, ...(headers ? { headers } : {}) });

    it('creates an agent with a flow tool and a search tool; bad references are refused', async () => {
      owner = await signUp(h());
      key = (await createApiKey(h(), owner.token, 'admin')).key;
      secretId = (await req('POST', '/api/v1/secrets', { name: 'OpenAI', provider: 'openai', value: KEY, baseUrl: `${fake.url}/v1` })).json().data.id;
      const anthropic = (
        await req('POST', '/api/v1/secrets', { name: 'Claude', provider: 'anthropic', value: KEY, baseUrl: `${fake.url}/anthropic/v1` })
      ).json().data.id;
      await req('POST', '/api/v1/models', {
        name: 'faq',
        fields: [
          { name: 'question', type: 'string' },
          { name: 'answer', type: 'text' },
        ],
      });
      await req('PATCH', '/api/v1/models/faq', { embedding: { enabled: true, provider: 'local', dimensions: 128 } });
      await req('POST', '/api/v1/data/faq/bulk', {
        op: 'create',
        items: [
          { question: 'How long do refunds take?', answer: 'Refunds take 5 days.' },
          { question: 'Do you ship abroad?', answer: 'We ship to the EU.' },
        ],
      });
      await h().built.embeddings.drain();
      const f = await req('POST', '/api/v1/flows', {
        name: 'Order status',
        description: 'Looks up the status of an order by its id.',
        nodes: [
          node('in', 'core.input', { schema: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] } }),
          node('out', 'core.output', { value: '{{ { "order": $input.orderId, "status": "shipped" } }}' }),
        ],
        edges: [edge('in', 'out')],
      });
      flowId = f.json().data.id;
      const bad = await req('POST', '/api/v1/agents', {
        name: 'Bad',
        provider: 'openai',
        model: 'gpt-4o-mini',
        secretId: anthropic,
        tools: [
          { kind: 'flow', ref: '00000000-0000-7000-8000-000000000000' },
          { kind: 'search', model: 'nope' },
        ],
      });
      expect(bad.statusCode).toBe(422);
      expect(bad.json().error.code).toBe('AGENT_INVALID');
      expect(bad.json().error.details.map((d: { field: string }) => d.field)).toEqual(['secretId', 'tools.0.ref', 'tools.1.model']);
      const a = await req('POST', '/api/v1/agents', {
        name: 'Support',
        provider: 'openai',
        model: 'gpt-4o-mini',
        secretId,
        system: 'You help customers of Acme.',
        personality: { empathy: 0.9, confidence: 0.2, style: 'friendly' },
        voice: { enabled: true, voice: 'alloy', language: 'en' },
        memory: 'long_term',
        tools: [
          { kind: 'flow', ref: flowId },
          { kind: 'search', model: 'faq', k: 1 },
        ],
        maxSteps: 3,
      });
      expect(a.statusCode, a.body).toBe(201);
      agentId = a.json().data.id;
      expect(a.json().data).toMatchObject({ status: 'active', memory: 'long_term', voice: { enabled: true, voice: 'alloy' } });
      const audit = (await h().request({ method: 'GET', url: '/api/v1/audit?action=AGENT_DEPLOY', token: owner.token })).json().data;
      expect(audit.some((e: { target: { id: string } }) => e.target.id === agentId)).toBe(true);
    });

    it('a streamed conversation: the agent calls both tools, the calls are streamed and stored', async () => {
      fake.script((r) => {
        if (toolNames(r).length && !hasToolResults(r))
          return {
            toolCalls: [
              { name: 'flow_Order_status', args: { orderId: 'A-17' } },
              { name: 'search_faq', args: { query: 'refunds' } },
            ],
          };
        const tools = (r.body.messages as { role: string; content: string }[])
          .filter((m) => m.role === 'tool')
          .map((m) => m.content)
          .join(' ');
        return { text: `Order A-17: ${tools.includes('shipped') ? 'shipped' : '?'}. ${tools.includes('Refunds take 5 days') ? 'Refunds take 5 days.' : ''}` };
      });
      const c = await req('POST', `/api/v1/agents/${agentId}/conversations`, { title: 'Order' });
      expect(c.statusCode, c.body).toBe(201);
      const cid = c.json().data.id as string;
      const before = fake.seen.length;
      const r = await req(
        'POST',
        `/api/v1/agents/${agentId}/conversations/${cid}/messages`,
        { content: 'Where is my order A-17, and how long do refunds take?' },
        { accept: 'text/event-stream' },
      );
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toMatch(/text\/event-stream/);
      const ev = events(r.body);
      const kinds = ev.map((e) => e.event);
      expect(kinds.filter((k) => k === 'tool_call')).toHaveLength(2);
      expect(kinds.filter((k) => k === 'tool_result')).toHaveLength(2);
      expect(kinds).toContain('delta');
      expect(kinds.at(-1)).toBe('message');
      const final = ev.at(-1)!.data as { message: { content: string }; usage: { outputTokens: number }; toolCalls: { name: string; output: unknown }[] };
      expect(final.message.content).toBe('Order A-17: shipped. Refunds take 5 days.');
      expect(final.usage.outputTokens).toBeGreaterThan(0);
      expect(final.toolCalls.find((t) => t.name === 'flow_Order_status')!.output).toEqual({ order: 'A-17', status: 'shipped' });
      const first = fake.seen[before]!;
      expect(first.credential).toBe(KEY);
      expect(toolNames(first).sort()).toEqual(['flow_Order_status', 'search_faq']);
      expect(systemOf(first)).toContain('You help customers of Acme.');
      expect(systemOf(first)).toMatch(/empathetic/);
      const msgs = (await req('GET', `/api/v1/agents/${agentId}/conversations/${cid}/messages`)).json().data as {
        role: string;
        tool: { name: string; input: unknown } | null;
      }[];
      expect(msgs.map((m) => m.role)).toEqual(['user', 'tool', 'tool', 'assistant']);
      expect(msgs.find((m) => m.tool?.name === 'flow_Order_status')!.tool).toMatchObject({
        input: { orderId: 'A-17' },
        output: { order: 'A-17', status: 'shipped' },
      });
      expect(msgs.find((m) => m.tool?.name === 'search_faq')!.tool).toMatchObject({ input: { query: 'refunds' } });
      expect(h().logs.join('\n')).not.toContain(KEY);
      expect(JSON.stringify(msgs)).not.toContain(KEY);
      // Paged.
      expect((await req('GET', `/api/v1/agents/${agentId}/conversations/${cid}/messages?limit=1&offset=3`)).json().data[0].role).toBe('assistant');
    });

    it('long-term memory: a later conversation recalls a fact from an earlier one', async () => {
      fake.script((r) => {
        const sys = systemOf(r);
        if (lastUserText(r.body).includes('favourite colour')) return { text: sys.includes('teal') ? 'Your favourite colour is teal.' : 'I do not know.' };
        return { text: 'Noted.' };
      });
      const c1 = (await req('POST', `/api/v1/agents/${agentId}/conversations`)).json().data.id as string;
      const one = await req('POST', `/api/v1/agents/${agentId}/conversations/${c1}/messages`, { content: 'Remember this: my favourite colour is teal.' });
      expect(one.statusCode, one.body).toBe(200);
      const c2 = (await req('POST', `/api/v1/agents/${agentId}/conversations`)).json().data.id as string;
      const two = await req('POST', `/api/v1/agents/${agentId}/conversations/${c2}/messages`, { content: 'What is my favourite colour?' });
      expect(two.json().data.message.content).toBe('Your favourite colour is teal.');
      // The session history carries within a conversation too.
      const three = await req('POST', `/api/v1/agents/${agentId}/conversations/${c2}/messages`, { content: 'Thanks!' });
      expect(three.statusCode).toBe(200);
      const sent = fake.seen.at(-1)!.body.messages as { role: string; content: string }[];
      expect(sent.filter((m) => m.role !== 'system').map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
      const st = (await req('GET', `/api/v1/agents/${agentId}/status`)).json().data;
      expect(st).toMatchObject({ status: 'active', conversations: 3 });
      expect(st.tokens.output).toBeGreaterThan(0);
    });

    it('a viewer’s chat cannot make the agent run a flow tool (it ran as the agent’s editor role)', async () => {
      const viewer = await signUp(h(), 'Viewer');
      const vt = await addMember(h(), owner, viewer, 'viewer');
      const flowRuns = async () => Number((await h().db.pool.query('select count(*)::int as n from executions where flow_id = $1', [flowId])).rows[0]!.n);
      const runsBefore = await flowRuns();
      // The model calls the flow tool whenever it is offered.
      fake.script((r) =>
        toolNames(r).includes('flow_Order_status') && !hasToolResults(r)
          ? { toolCalls: [{ name: 'flow_Order_status', args: { orderId: 'A-18' } }] }
          : { text: 'done' },
      );
      const c = await h().request({ method: 'POST', url: `/api/v1/agents/${agentId}/conversations`, token: vt, body: {} });
      expect(c.statusCode, c.body).toBe(201);
      const before = fake.seen.length;
      const r = await h().request({
        method: 'POST',
        url: `/api/v1/agents/${agentId}/conversations/${c.json().data.id as string}/messages`,
        token: vt,
        body: { content: 'Mark order A-18 shipped' },
      });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json().data.toolCalls).toEqual([]);
      // Only the read tool was offered to the model; the flow never ran.
      expect(toolNames(fake.seen[before]!)).toEqual(['search_faq']);
      expect(await flowRuns()).toBe(runsBefore);
    });

    it('a paused agent answers 409; published agents serve consumers through a conversation token', async () => {
      expect((await req('PATCH', `/api/v1/agents/${agentId}`, { status: 'paused' })).json().data.status).toBe('paused');
      const c = (await req('POST', `/api/v1/agents/${agentId}/conversations`)).json().data.id as string;
      const paused = await req('POST', `/api/v1/agents/${agentId}/conversations/${c}/messages`, { content: 'hi' });
      expect(paused.statusCode).toBe(409);
      expect(paused.json().error.code).toBe('AGENT_PAUSED');
      await req('PATCH', `/api/v1/agents/${agentId}`, { status: 'active' });

      const slug = `support-${h().kind}`;
      expect((await req('POST', `/api/v1/agents/${agentId}/publish`, { slug })).json().error.code).toBe('AGENT_PUBLIC_OWNER_ONLY');
      expect((await h().request({ method: 'POST', url: `/api/v1/agents/${agentId}/publish`, token: owner.token, body: { slug } })).statusCode).toBe(200);
      const start = await h().request({ method: 'POST', url: `/api/v1/chat/${slug}/conversations` });
      expect(start.statusCode, start.body).toBe(201);
      expect(start.headers['ratelimit-limit']).toBeDefined();
      const { id, token } = start.json().data as { id: string; token: string };
      fake.script(() => ({ text: 'Hello, consumer.' }));
      const say = await h().request({
        method: 'POST',
        url: `/api/v1/chat/${slug}/conversations/${id}/messages`,
        headers: { 'x-conversation-token': token },
        body: { content: 'Hello?' },
      });
      expect(say.statusCode, say.body).toBe(200);
      expect(say.json().data.message.content).toBe('Hello, consumer.');
      const wrong = await h().request({
        method: 'POST',
        url: `/api/v1/chat/${slug}/conversations/${id}/messages`,
        headers: { 'x-conversation-token': 'x'.repeat(43) },
        body: { content: 'Hello?' },
      });
      expect(wrong.statusCode).toBe(404);
      const history = (
        await h().request({ method: 'GET', url: `/api/v1/chat/${slug}/conversations/${id}/messages`, headers: { 'x-conversation-token': token } })
      ).json().data;
      expect(history.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
    });

    it('the agent node runs an agent inside a flow', async () => {
      fake.script((r) => ({ text: `agent says: ${lastUserText(r.body)}` }));
      const f = await req('POST', '/api/v1/flows', {
        name: 'Ask agent',
        nodes: [
          node('in', 'core.input'),
          node('ag', 'ai.agent', { agentId, message: '{{ $input.q }}' }),
          node('out', 'core.output', { value: '{{ $input.text }}' }),
        ],
        edges: [edge('in', 'ag'), edge('ag', 'out')],
      });
      const ex = (await req('POST', `/api/v1/flows/${f.json().data.id as string}/run?wait=true`, { input: { q: 'ping' } })).json().data;
      expect(ex.status, JSON.stringify(ex.error)).toBe('succeeded');
      expect(ex.output).toBe('agent says: ping');
    });
  },
  { INFINITY_HTTP_ALLOW: '127.0.0.1/32', INFINITY_QUEUE_POLL: '100', INFINITY_PUBLIC_RATE_LIMIT: '1000' },
);
