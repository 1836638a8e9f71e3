/**
 * The AI seed journeys as users run them: `infinity start` processes, real HTTP, both databases.
 * Providers are the loopback fakes (OpenAI wire format). On PostgreSQL the API and the worker are
 * separate processes: embedding work announced by one is done by the other.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { fakeAiForSuite, lastUserText } from '../../apps/server/src/platform/testing/fake-ai.js';
import { testBackends } from '../../apps/server/src/platform/testing/backends.js';
import { type RunningServer, e2eEnv, startServer, until } from './server-process.js';

type Json = Record<string, any>;
const KEY = 'sk-e2e-openai-key-5d1f0a';

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Json; text: string }> {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await r.text();
  return { status: r.status, json: text && text.startsWith('{') ? (JSON.parse(text) as Json) : {}, text };
}

const node = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });
const chain = (ids: string[]) => ids.slice(1).map((t, i) => ({ id: `e${i}`, source: ids[i]!, target: t }));

const fake = fakeAiForSuite(KEY);

for (const backend of testBackends()) {
  describe(`AI journeys over HTTP [${backend}]`, () => {
    const servers: RunningServer[] = [];
    let base = '';
    let auth: Record<string, string> = {};
    afterAll(async () => {
      for (const s of servers) await s.stop();
      const logs = servers.flatMap((s) => s.output).join('\n');
      expect(logs).not.toContain(KEY);
    });

    it('starts (on PostgreSQL: an api process and a worker process)', async () => {
      fake.script((r) => ({ text: `echo: ${lastUserText(r.body)}` }));
      const env = { ...(await e2eEnv(backend, 'ai')), INFINITY_HTTP_ALLOW: '127.0.0.1/32', DATABASE_POOL_SIZE: '5' };
      if (backend === 'postgres') {
        servers.push(await startServer(['--role', 'api'], env));
        servers.push(await startServer(['--role', 'worker'], env));
      } else servers.push(await startServer([], env));
      base = `${servers[0]!.url}/api/v1`;
      const su = await call(base, 'POST', '/auth/signup', { name: 'Ada', email: 'ada@example.com', password: 'correct horse battery' });
      expect(su.status).toBe(201);
      auth = { authorization: `Bearer ${su.json.data.accessToken as string}` };
    });

    let secretId = '';
    it('seed flow: key in the vault → input → LLM → output → run → publish → a consumer gets an answer', async () => {
      const s = await call(base, 'POST', '/secrets', { name: 'OpenAI', provider: 'openai', value: KEY, baseUrl: `${fake.url}/v1` }, auth);
      expect(s.status).toBe(201);
      expect(s.text).not.toContain(KEY);
      secretId = s.json.data.id;
      const f = await call(
        base,
        'POST',
        '/flows',
        {
          name: 'Ask',
          nodes: [
            node('in', 'core.input'),
            node('llm', 'ai.chat', { secretId, model: 'gpt-4o-mini', prompt: '{{ $input.question }}' }),
            node('out', 'core.output', { value: '{{ { "answer": $input.text } }}' }),
          ],
          edges: chain(['in', 'llm', 'out']),
        },
        auth,
      );
      expect(f.status, f.text).toBe(201);
      const run = await call(base, 'POST', `/flows/${f.json.data.id as string}/run?wait=true`, { input: { question: 'Is it on?' } }, auth);
      expect(run.json.data).toMatchObject({ status: 'succeeded', output: { answer: 'echo: Is it on?' } });
      expect(fake.seen.at(-1)!.credential).toBe(KEY);
      expect((await call(base, 'POST', `/flows/${f.json.data.id as string}/publish`, { slug: 'ask', access: 'public' }, auth)).status).toBe(200);
      const consumer = await call(base, 'POST', '/run/ask', { question: 'Hi from outside' });
      expect(consumer.status, consumer.text).toBe(200);
      expect(consumer.json).toEqual({ data: { answer: 'echo: Hi from outside' } });
    });

    it('RAG: 1,000 imported docs embedded (progress visible), filtered search returns exactly k, retrieve → LLM answers from them', async () => {
      expect(
        (
          await call(
            base,
            'POST',
            '/models',
            {
              name: 'docs',
              fields: [
                { name: 'title', type: 'string' },
                { name: 'body', type: 'text' },
                { name: 'lang', type: 'string' },
              ],
            },
            auth,
          )
        ).status,
      ).toBe(201);
      expect((await call(base, 'PATCH', '/models/docs', { embedding: { enabled: true, provider: 'local', dimensions: 384 } }, auth)).status).toBe(200);
      const rows = Array.from({ length: 1000 }, (_, i) => ({
        title: `Guide ${i}`,
        body: i === 500 ? 'Our office cat is called Biscuit.' : `Step ${i}: configure module ${i % 37}.`,
        lang: i % 2 ? 'en' : 'fr',
      }));
      const imp = await call(base, 'POST', '/data/docs/import', rows, auth);
      expect(imp.status, imp.text).toBe(200);
      const seen: number[] = [];
      await until('the back-fill', async () => {
        const st = (await call(base, 'GET', '/models/docs/embeddings', undefined, auth)).json.data as { done: number; total: number };
        seen.push(st.done);
        return st.total === 1000 && st.done === 1000;
      });
      expect(seen.at(-1)).toBe(1000);
      const s = await call(base, 'POST', '/data/docs/search', { query: 'configure module', k: 20, filter: { lang: { eq: 'en' } } }, auth);
      expect(s.json.data).toHaveLength(20);
      expect(s.json.data.every((r: { lang: string }) => r.lang === 'en')).toBe(true);
      const f = await call(
        base,
        'POST',
        '/flows',
        {
          name: 'RAG',
          nodes: [
            node('in', 'core.input'),
            node('find', 'ai.retrieve', { model: 'docs', query: '{{ $input.q }}', k: 2, mode: 'hybrid' }),
            node('llm', 'ai.chat', { secretId, model: 'gpt-4o-mini', prompt: 'Context:\n{{ $input.context }}\nQuestion: {{ $node["in"].output.q }}' }),
            node('out', 'core.output', { value: '{{ $input.text }}' }),
          ],
          edges: chain(['in', 'find', 'llm', 'out']),
        },
        auth,
      );
      const run = await call(base, 'POST', `/flows/${f.json.data.id as string}/run?wait=true`, { input: { q: 'what is the office cat called' } }, auth);
      expect(run.json.data.status).toBe('succeeded');
      expect(run.json.data.output).toContain('Biscuit');
    });

    it('an agent with a flow tool streams its reply over SSE', async () => {
      fake.script((r) => {
        const tools = (r.body.tools ?? []) as unknown[];
        const done = (r.body.messages as { role: string }[]).some((m) => m.role === 'tool');
        return tools.length && !done ? { toolCalls: [{ name: 'lookup', args: { q: 'cat' } }] } : { text: 'The cat is Biscuit.' };
      });
      const tool = await call(
        base,
        'POST',
        '/flows',
        {
          name: 'Lookup',
          nodes: [
            node('in', 'core.input', { schema: { type: 'object', properties: { q: { type: 'string' } } } }),
            node('out', 'core.output', { value: '{{ { "found": "Biscuit" } }}' }),
          ],
          edges: chain(['in', 'out']),
        },
        auth,
      );
      const a = await call(
        base,
        'POST',
        '/agents',
        { name: 'Helper', provider: 'openai', model: 'gpt-4o-mini', secretId, tools: [{ kind: 'flow', ref: tool.json.data.id, name: 'lookup' }] },
        auth,
      );
      expect(a.status, a.text).toBe(201);
      const c = await call(base, 'POST', `/agents/${a.json.data.id as string}/conversations`, {}, auth);
      const res = await fetch(`${base}/agents/${a.json.data.id as string}/conversations/${c.json.data.id as string}/messages`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ content: 'Who is the cat?' }),
      });
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const text = await res.text();
      const names = [...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]);
      expect(names).toEqual(expect.arrayContaining(['tool_call', 'tool_result', 'delta', 'message']));
      expect(names.at(-1)).toBe('message');
      expect(text).toContain('The cat is Biscuit.');
      expect(text).toContain('"found":"Biscuit"');
    });
  });
}
