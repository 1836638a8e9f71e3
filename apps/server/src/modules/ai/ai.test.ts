import { expect, it, vi } from 'vitest';
import { sql } from 'kysely';
import * as searchIndexMigration from '../../platform/db/migrations/0008-search-index.js';
import * as searchColumnMigration from '../../platform/db/migrations/0009-search-column.js';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { fakeAiForSuite, lastUserText } from '../../platform/testing/fake-ai.js';
import { describeEachDb } from '../../platform/testing/harness.js';

const KEY = 'sk-test-ThisIsTheVaultKey-9f2c';
const fake = fakeAiForSuite(KEY);

const node = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });
const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, target });

describeEachDb(
  'AI: providers, nodes, usage, embeddings and similarity search',
  (h) => {
    let owner: Awaited<ReturnType<typeof signUp>>;
    let key: string;
    let openaiSecret: string;
    const req = (method: string, url: string, body?: unknown, k = key) => h().request({ method, url, apiKey: k, body });
    const secret = async (name: string, provider: string, baseUrl: string, value = KEY) => {
      const r = await req('POST', '/api/v1/secrets', { name, provider, value, baseUrl });
      expect(r.statusCode, r.body).toBe(201);
      return r.json().data.id as string;
    };
    const flow = async (name: string, nodes: ReturnType<typeof node>[]) => {
      const r = await req('POST', '/api/v1/flows', { name, nodes, edges: nodes.slice(1).map((n, i) => edge(nodes[i]!.id, n.id)) });
      expect(r.statusCode, r.body).toBe(201);
      return r.json().data.id as string;
    };
    const run = async (flowId: string, input: unknown) => {
      const r = await req('POST', `/api/v1/flows/${flowId}/run?wait=true`, { input });
      expect(r.statusCode, r.body).toBe(200);
      return r.json().data as { id: string; status: string; output: Record<string, unknown>; error: { code: string; message: string } | null };
    };
    /** Nothing the server stored, logged or answered holds the key. */
    const assertKeyNowhere = async (executionId: string) => {
      expect(h().logs.join('\n')).not.toContain(KEY);
      const trace = await req('GET', `/api/v1/executions/${executionId}`);
      expect(trace.body).not.toContain(KEY);
      const rows = await sql<{
        t: string;
      }>`select (select string_agg(x::text, ' ') from node_runs x) || (select string_agg(e::text, ' ') from executions e) || (select string_agg(a::text, ' ') from audit_log a) as t`.execute(
        h().db.kysely,
      );
      expect(rows.rows[0]?.t ?? '').not.toContain(KEY);
    };

    it('seed flow: an OpenAI key in the vault → input → LLM chat → output → run → publish → a consumer gets an answer', async () => {
      owner = await signUp(h());
      key = (await createApiKey(h(), owner.token, 'admin')).key;
      openaiSecret = await secret('OpenAI', 'openai', `${fake.url}/v1`);
      const id = await flow('Ask', [
        node('in', 'core.input', { schema: { type: 'object', required: ['question'], properties: { question: { type: 'string' } } } }),
        node('llm', 'ai.chat', {
          secretId: openaiSecret,
          model: 'gpt-4o-mini',
          system: 'Be brief.',
          prompt: '{{ $input.question }}',
          temperature: 0.2,
          maxTokens: 200,
        }),
        node('out', 'core.output', { value: '{{ { "answer": $input.text, "tokens": $input.usage.outputTokens } }}' }),
      ]);
      const before = fake.seen.length;
      const ex = await run(id, { question: 'What is Infinity?' });
      expect(ex.status, JSON.stringify(ex.error)).toBe('succeeded');
      expect(ex.output).toEqual({ answer: 'echo: What is Infinity?', tokens: 4 });
      const call = fake.seen[before]!;
      expect(call).toMatchObject({ provider: 'openai', path: '/v1/chat/completions', credential: KEY });
      expect(call.body).toMatchObject({ model: 'gpt-4o-mini', stream: true, temperature: 0.2, max_tokens: 200 });
      expect((call.body.messages as { role: string }[])[0]).toEqual({ role: 'system', content: 'Be brief.' });
      // The answer streamed into the execution log.
      const trace = (await req('GET', `/api/v1/executions/${ex.id}`)).json().data;
      const llm = trace.nodes.find((n: { nodeId: string }) => n.nodeId === 'llm');
      expect(llm.logs.map((l: { message: string }) => l.message).join('')).toContain('echo: What is Infinity?');
      await assertKeyNowhere(ex.id);

      // Published (owner-only public access) and called by a consumer without an account.
      const pub = await h().request({
        method: 'POST',
        url: `/api/v1/flows/${id}/publish`,
        token: owner.token,
        body: { slug: `ask-${h().kind}`, access: 'public' },
      });
      expect(pub.statusCode, pub.body).toBe(200);
      const consumer = await h().request({ method: 'POST', url: `/api/v1/run/ask-${h().kind}`, body: { question: 'Hello?' } });
      expect(consumer.statusCode, consumer.body).toBe(200);
      expect(consumer.json()).toEqual({ data: { answer: 'echo: Hello?', tokens: 2 } });
    });

    it('Anthropic and Gemini through the same node: each key in its provider’s header', async () => {
      const anthropic = await secret('Anthropic', 'anthropic', `${fake.url}/anthropic/v1`);
      const google = await secret('Gemini', 'google', `${fake.url}/google/v1beta`);
      for (const [secretId, model, provider, path] of [
        [anthropic, 'claude-sonnet-4-5', 'anthropic', '/anthropic/v1/messages'],
        [google, 'gemini-2.5-flash', 'google', '/google/v1beta/models/gemini-2.5-flash:streamGenerateContent'],
      ] as const) {
        const id = await flow(`Ask ${provider}`, [
          node('in', 'core.input'),
          node('llm', 'ai.chat', { secretId, model, prompt: 'Say {{ $input.word }}' }),
          node('out', 'core.output', { value: '{{ $input }}' }),
        ]);
        const before = fake.seen.length;
        const ex = await run(id, { word: 'hi' });
        expect(ex.status, JSON.stringify(ex.error)).toBe('succeeded');
        expect(ex.output).toMatchObject({ text: 'echo: Say hi', provider, model, finishReason: 'stop' });
        expect((ex.output.usage as { outputTokens: number }).outputTokens).toBe(3);
        expect(fake.seen[before]).toMatchObject({ provider, path, credential: KEY });
        await assertKeyNowhere(ex.id);
      }
    });

    it('a key goes only to its allowed hosts: an admin who narrows them stops model calls to the base URL, before anything is sent', async () => {
      const narrowed = await secret('Narrowed', 'openai', `${fake.url}/v1`);
      expect((await req('PATCH', `/api/v1/secrets/${narrowed}`, { allowedHosts: ['api.openai.com'] })).statusCode).toBe(200);
      const id = await flow('Narrowed', [node('in', 'core.input'), node('llm', 'ai.chat', { secretId: narrowed, model: 'gpt-4o-mini', prompt: 'hi' })]);
      const before = fake.seen.length;
      const ex = await run(id, {});
      expect(ex.status).toBe('failed');
      expect(ex.error).toMatchObject({ code: 'VAULT_SECRET_HOST_NOT_ALLOWED' });
      expect(ex.error!.message).toContain('127.0.0.1');
      expect(fake.seen.length).toBe(before);
      await assertKeyNowhere(ex.id);
    });

    it('structured output: the answer is parsed against the JSON Schema', async () => {
      fake.script((r) =>
        r.body.response_format ? { text: JSON.stringify({ sentiment: 'positive', score: 0.9 }) } : { text: `echo: ${lastUserText(r.body)}` },
      );
      const schema = {
        type: 'object',
        properties: { sentiment: { type: 'string', enum: ['positive', 'negative'] }, score: { type: 'number' } },
        required: ['sentiment', 'score'],
        additionalProperties: false,
      };
      const id = await flow('Classify', [
        node('in', 'core.input'),
        node('llm', 'ai.chat', { secretId: openaiSecret, model: 'gpt-4o-mini', prompt: '{{ $input.text }}', schema }),
        node('out', 'core.output', { value: '{{ $input.object }}' }),
      ]);
      const ex = await run(id, { text: 'I love it' });
      expect(ex.output).toEqual({ sentiment: 'positive', score: 0.9 });
      expect(fake.seen.at(-1)!.body.response_format).toMatchObject({ type: 'json_schema' });
      fake.script((r) => ({ text: `echo: ${lastUserText(r.body)}` }));
    });

    it('provider failures are clear and never carry the key; private base URLs need the operator’s allow-list', async () => {
      const wrong = await secret('Wrong key', 'openai', `${fake.url}/v1`, 'sk-wrong-key-0000000000001234');
      const id = await flow('Bad key', [
        node('in', 'core.input'),
        node('llm', 'ai.chat', { secretId: wrong, model: 'gpt-4o-mini', prompt: 'x' }),
        node('out', 'core.output'),
      ]);
      const ex = await run(id, {});
      expect(ex.status).toBe('failed');
      const trace = (await req('GET', `/api/v1/executions/${ex.id}`)).json().data;
      const failed = trace.nodes.find((n: { nodeId: string }) => n.nodeId === 'llm');
      expect(failed.error.code).toBe('AI_PROVIDER_ERROR');
      expect(failed.error.message).toMatch(/openai answered 401/);
      expect(JSON.stringify(trace)).not.toMatch(/sk-wrong|0000000000001234|sk-wr/);

      const lan = await secret('LAN Ollama', 'openai-compatible', 'http://10.1.2.3:11434/v1');
      const refused = await run(
        await flow('LAN', [node('in', 'core.input'), node('llm', 'ai.chat', { secretId: lan, model: 'llama3.2', prompt: 'x' }), node('out', 'core.output')]),
        {},
      );
      const t2 = (await req('GET', `/api/v1/executions/${refused.id}`)).json().data;
      expect(t2.nodes.find((n: { nodeId: string }) => n.nodeId === 'llm').error.code).toBe('AI_BASE_URL_REFUSED');
      // Loopback is listed by this suite's operator (INFINITY_HTTP_ALLOW=127.0.0.1/32): a local server works.
      const local = await secret('Local Ollama', 'openai-compatible', `${fake.url}/v1`);
      const ok = await run(
        await flow('Local', [
          node('in', 'core.input'),
          node('llm', 'ai.chat', { secretId: local, model: 'llama3.2', prompt: 'local?' }),
          node('out', 'core.output', { value: '{{ $input.text }}' }),
        ]),
        {},
      );
      expect(ok.output).toBe('echo: local?');
    });

    it('records usage per call and enforces the monthly token limit before calling', async () => {
      const data = (await req('GET', '/api/v1/usage')).json().data;
      const u = data.tokens;
      expect(u.calls).toBeGreaterThanOrEqual(5);
      expect(u.byModel.find((m: { provider: string; model: string }) => m.provider === 'anthropic' && m.model === 'claude-sonnet-4-5')).toMatchObject({
        kind: 'chat',
        calls: 1,
        outputTokens: 3,
      });
      const tokens = data.metrics.find((m: { metric: string }) => m.metric === 'tokensPerMonth');
      expect(tokens).toMatchObject({ limit: 1_000_000, used: u.inputTokens + u.outputTokens });

      // Another organization at its limit: the node fails with PLAN_LIMIT_REACHED and no request leaves.
      const other = await signUp(h());
      const otherKey = (await createApiKey(h(), other.token, 'admin')).key;
      const s = (await req('POST', '/api/v1/secrets', { name: 'k', provider: 'openai', value: KEY, baseUrl: `${fake.url}/v1` }, otherKey)).json().data
        .id as string;
      await sql`insert into ai_usage (org_id, provider, model, kind, input_tokens, output_tokens) values (${other.orgId}, 'openai', 'gpt-4o-mini', 'chat', 999999, 1)`.execute(
        h().db.kysely,
      );
      const f = await req(
        'POST',
        '/api/v1/flows',
        {
          name: 'Over',
          nodes: [node('in', 'core.input'), node('llm', 'ai.chat', { secretId: s, model: 'gpt-4o-mini', prompt: 'x' })],
          edges: [edge('in', 'llm')],
        },
        otherKey,
      );
      const before = fake.seen.length;
      const ex = (await req('POST', `/api/v1/flows/${f.json().data.id as string}/run?wait=true`, { input: {} }, otherKey)).json().data;
      expect(ex.status).toBe('failed');
      expect(ex.error.code).toBe('PLAN_LIMIT_REACHED');
      expect(ex.error.details).toMatchObject({ metric: 'tokensPerMonth', limit: 1_000_000, plan: 'free' });
      expect(fake.seen.length).toBe(before);
      // Usage is per organization: the first one is untouched.
      expect((await req('GET', '/api/v1/usage')).json().data.metrics.find((m: { metric: string }) => m.metric === 'tokensPerMonth').used).toBe(tokens.used);
    });

    it('RAG: a docs model with local embeddings, 1,000 records back-filled with visible progress, filtered search returns exactly k', async () => {
      expect(
        (
          await req('POST', '/api/v1/models', {
            name: 'docs',
            fields: [
              { name: 'title', type: 'string' },
              { name: 'body', type: 'text' },
              { name: 'topic', type: 'enum', values: ['billing', 'shipping', 'account', 'other'] },
              { name: 'n', type: 'integer' },
            ],
          })
        ).statusCode,
      ).toBe(201);
      const topics = ['billing', 'shipping', 'account', 'other'];
      const items = Array.from({ length: 1000 }, (_, i) => ({
        title: `Doc ${i}`,
        body: `Article ${i} about ${topics[i % 4]}: ${i % 7 === 0 ? 'refunds are paid within 5 days' : 'parcels ship from Lyon'} (code ${i})`,
        topic: topics[i % 4],
        n: i,
      }));
      // Records that exist before embeddings are enabled are back-filled.
      expect((await req('POST', '/api/v1/data/docs/bulk', { op: 'create', items: items.slice(0, 600) })).statusCode).toBe(200);
      const en = await req('PATCH', '/api/v1/models/docs', {
        embedding: { enabled: true, provider: 'local', sourceFields: ['title', 'body'], dimensions: 256 },
      });
      expect(en.statusCode, en.body).toBe(200);
      expect(en.json().data.embedding).toMatchObject({
        enabled: true,
        provider: 'local',
        model: 'local-lexical',
        dimensions: 256,
        sourceFields: ['title', 'body'],
      });
      const status0 = (await req('GET', '/api/v1/models/docs/embeddings')).json().data;
      expect(status0).toMatchObject({ enabled: true, total: 600 });
      expect(status0.done + status0.pending).toBe(600);
      expect((await req('POST', '/api/v1/data/docs/bulk', { op: 'create', items: items.slice(600) })).statusCode).toBe(200);
      await h().built.embeddings.drain();
      expect((await req('GET', '/api/v1/models/docs/embeddings')).json().data).toMatchObject({ total: 1000, done: 1000, pending: 0, failed: 0 });
      if (h().kind === 'pglite') {
        // The embedded database (no autovacuum) writes each embedded row once — one process, one
        // worker: no lease — and reclaims dead versions' space as it goes, so the table stays near
        // the size it has once rewritten.
        const db = h().db.kysely;
        const schema = (await sql<{ s: string }>`select schemaname as s from pg_tables where tablename = 'docs'`.execute(db)).rows[0]!.s;
        const bytes = async () => (await sql<{ n: number }>`select pg_relation_size(${`"${schema}".docs`}::regclass)::int as n`.execute(db)).rows[0]!.n;
        const table = await bytes();
        await sql`vacuum full ${sql.id(schema, 'docs')}`.execute(db);
        const compact = await bytes();
        // Measured: 1.06; 1.1 with a lease, 1.4 without reclaiming, 1.57 before (a lease, no reclaiming).
        expect(table / compact, `${table} bytes, ${compact} once rewritten`).toBeLessThan(1.25);
      }

      // Vector search with a filter: exactly k, all matching, best first.
      const s = await req('POST', '/api/v1/data/docs/search', { query: 'refunds paid', k: 25, filter: { topic: { eq: 'billing' } } });
      expect(s.statusCode, s.body).toBe(200);
      const hits = s.json().data as { topic: string; body: string; score: number }[];
      expect(hits).toHaveLength(25);
      expect(hits.every((x) => x.topic === 'billing')).toBe(true);
      expect(hits[0]!.body).toContain('refunds');
      expect(hits.map((x) => x.score)).toEqual([...hits.map((x) => x.score)].sort((a, b) => b - a));
      // A rare filter (5 matches) still fills what matches.
      const rare = (await req('POST', '/api/v1/data/docs/search', { query: 'parcels', k: 10, filter: { n: { lt: 5 } } })).json();
      expect(rare.data).toHaveLength(5);
      // Keyword and hybrid modes; a threshold cuts weak matches.
      const kw = (await req('POST', '/api/v1/data/docs/search', { query: 'refunds', k: 5, mode: 'keyword' })).json().data as { body: string }[];
      expect(kw).toHaveLength(5);
      expect(kw.every((x) => x.body.includes('refunds'))).toBe(true);
      const hy = (await req('POST', '/api/v1/data/docs/search', { query: 'refunds code 14', k: 3, mode: 'hybrid' })).json().data as { n: number }[];
      expect(hy[0]!.n).toBe(14);
      // Both match and rank a stored document (_fts) through its GIN index, not a scan of every record.
      const ftsIndex = async () =>
        (
          await sql<{
            schema: string;
            def: string;
          }>`select schemaname as schema, indexdef as def from pg_indexes where tablename = 'docs' and indexname = 'docs__fts_idx'`.execute(h().db.kysely)
        ).rows[0];
      const fts = await ftsIndex();
      expect(fts?.def).toContain('gin (_fts)');
      const docsTable = sql.id(fts!.schema, 'docs');
      const kwIds = async () =>
        ((await req('POST', '/api/v1/data/docs/search', { query: 'refunds paid', k: 8, mode: 'keyword' })).json().data as { id: string }[]).map((x) => x.id);
      const before = await kwIds();
      // A model that enabled embeddings before the column existed has an index on the expression
      // (0008, which skips a model that has one); 0009 turns it into the column (and skips a model that has it).
      await sql`alter table ${docsTable} drop column _fts`.execute(h().db.kysely);
      await searchIndexMigration.up(h().db.kysely as never);
      await searchIndexMigration.up(h().db.kysely as never);
      expect((await ftsIndex())?.def).toContain('to_tsvector');
      await searchColumnMigration.up(h().db.kysely as never);
      await searchColumnMigration.up(h().db.kysely as never);
      expect((await ftsIndex())?.def).toContain('gin (_fts)');
      expect(await kwIds()).toEqual(before);
      const plan = await h()
        .db.kysely.transaction()
        .execute(async (trx) => {
          await sql`set local enable_seqscan = off`.execute(trx);
          return (await sql<Record<string, string>>`explain select id from ${docsTable} t where t._fts @@ plainto_tsquery('simple', 'refunds')`.execute(trx))
            .rows;
        });
      expect(JSON.stringify(plan)).toContain('docs__fts_idx');
      const strict = (await req('POST', '/api/v1/data/docs/search', { query: 'refunds paid', k: 50, threshold: 0.99 })).json().data;
      expect(strict.length).toBeLessThan(50);
      // Bad input is a 4xx that says what is wrong.
      expect((await req('POST', '/api/v1/data/docs/search', { k: 5 })).statusCode).toBe(400);
      expect((await req('POST', '/api/v1/data/docs/search', { query: 'x', k: 1000 })).statusCode).toBe(400);
      expect((await req('POST', '/api/v1/data/docs/search', { vector: [1, 0, 0], k: 5 })).json().error.code).toBe('QUERY_INVALID');

      // An update whose source changed is embedded again; one that did not change is not.
      const first = (await req('GET', '/api/v1/data/docs?filter[n][eq]=3')).json().data[0];
      await req('PATCH', `/api/v1/data/docs/${first.id as string}`, { n: 3000 });
      expect((await req('GET', '/api/v1/models/docs/embeddings')).json().data.pending).toBe(0);
      await req('PATCH', `/api/v1/data/docs/${first.id as string}`, { body: 'completely different: warranty claims' });
      // NB: not "pending is 1" here: the worker wakes on the write and may already hold the row
      // (a claimed row is not pending) — a race the CI run of a6fd05e lost. The search below shows
      // the record was embedded again from its new text.
      await h().built.embeddings.drain();
      expect((await req('GET', '/api/v1/models/docs/embeddings')).json().data.pending).toBe(0);
      const w = (await req('POST', '/api/v1/data/docs/search', { query: 'warranty claims', k: 1 })).json().data[0];
      expect(w.id).toBe(first.id);

      // A source field cannot be dropped while embedded.
      expect((await req('PATCH', '/api/v1/models/docs', { dropFields: ['body'] })).json().error.code).toBe('MODEL_CHANGE_UNSAFE');

      // input → retrieve → LLM → output answers from the retrieved records.
      const id = await flow('RAG', [
        node('in', 'core.input'),
        node('find', 'ai.retrieve', { model: 'docs', query: '{{ $input.question }}', k: 3, filter: { topic: { eq: 'billing' } } }),
        node('llm', 'ai.chat', {
          secretId: openaiSecret,
          model: 'gpt-4o-mini',
          system: 'Answer from the context only.',
          prompt: 'Context:\n{{ $input.context }}\n\nQuestion: {{ $node["in"].output.question }}',
        }),
        node('out', 'core.output', { value: '{{ { "answer": $input.text, "sources": $node["find"].output.records.id } }}' }),
      ]);
      const ex = await run(id, { question: 'when are refunds paid?' });
      expect(ex.status, JSON.stringify(ex.error)).toBe('succeeded');
      expect(ex.output.answer).toContain('refunds are paid within 5 days');
      expect(ex.output.sources).toHaveLength(3);
    });

    it('filtered search over the HNSW graph (more than 1,000 matches) is full, and stays full when the filter came to match fewer than remembered', async () => {
      expect(
        (
          await req('POST', '/api/v1/models', {
            name: 'memos',
            fields: [
              { name: 'body', type: 'text' },
              { name: 'cat', type: 'string' },
              { name: 'n', type: 'integer' },
            ],
          })
        ).statusCode,
      ).toBe(201);
      const words = ['alpha', 'beta', 'gamma', 'delta', 'omega', 'sigma', 'kappa', 'theta'];
      const items = Array.from({ length: 1300 }, (_, i) => ({
        body: `note ${i} ${words[i % 8]} ${words[(i * 3) % 8]} ${words[(i * 5) % 7]}`,
        cat: i % 13 === 0 ? 'rare' : 'common',
        n: i,
      }));
      expect((await req('POST', '/api/v1/data/memos/bulk', { op: 'create', items })).statusCode).toBe(200);
      expect(
        (await req('PATCH', '/api/v1/models/memos', { embedding: { enabled: true, provider: 'local', sourceFields: ['body'], dimensions: 32 } })).statusCode,
      ).toBe(200);
      await h().built.embeddings.drain();
      const search = async () => {
        const r = await req('POST', '/api/v1/data/memos/search', { query: 'gamma omega', k: 10, filter: { cat: { eq: 'common' } }, fields: ['cat', 'n'] });
        expect(r.statusCode, r.body).toBe(200);
        return r.json<{ data: { id: string; cat: string; score: number }[]; meta: { exact: boolean } }>();
      };
      // 1,200 match: with pgvector the graph answers (no exact scan), k results, all matching.
      const first = await search();
      expect(first.data).toHaveLength(10);
      expect(first.data.every((x) => x.cat === 'common')).toBe(true);
      expect(first.meta.exact).toBe(!h().db.info.vector);
      // All but three of them deleted: the remembered count (1,200) sends the search to the graph,
      // which finds only the three; the exact scan answers with exactly those.
      const common = (await req('GET', '/api/v1/data/memos?filter[cat][eq]=common&fields=n&sort=n&limit=1000')).json().data as { id: string }[];
      const more = (await req('GET', '/api/v1/data/memos?filter[cat][eq]=common&fields=n&sort=n&limit=1000&offset=1000')).json().data as { id: string }[];
      const doomed = [...common, ...more].slice(3).map((x) => x.id);
      for (let i = 0; i < doomed.length; i += 500)
        expect((await req('POST', '/api/v1/data/memos/bulk', { op: 'delete', items: doomed.slice(i, i + 500) })).statusCode).toBe(200);
      const after = await search();
      expect(after.data.map((x) => x.id).sort()).toEqual(
        common
          .slice(0, 3)
          .map((x) => x.id)
          .sort(),
      );
      expect(after.meta.exact).toBe(true);
    });

    it('vector searches narrow their graph width to what the model’s own searches need, measured against exact answers', async () => {
      expect(
        (
          await req('POST', '/api/v1/models', {
            name: 'tunes',
            fields: [
              { name: 'body', type: 'text' },
              { name: 'cat', type: 'string' },
            ],
          })
        ).statusCode,
      ).toBe(201);
      const words = ['alpha', 'beta', 'gamma', 'delta', 'omega', 'sigma', 'kappa', 'theta', 'lambda', 'rho'];
      const items = Array.from({ length: 1300 }, (_, i) => ({
        body: `${words[i % 10]} ${words[(i * 3) % 10]} ${words[(i * 7) % 9]} item ${i}`,
        cat: i % 13 === 0 ? 'rare' : 'common',
      }));
      expect((await req('POST', '/api/v1/data/tunes/bulk', { op: 'create', items })).statusCode).toBe(200);
      expect(
        (await req('PATCH', '/api/v1/models/tunes', { embedding: { enabled: true, provider: 'local', sourceFields: ['body'], dimensions: 32 } })).statusCode,
      ).toBe(200);
      await h().built.embeddings.drain();
      const search = async (q: number, filtered: boolean) => {
        const r = await req('POST', '/api/v1/data/tunes/search', {
          query: `${words[q % 10]} ${words[(q * 7) % 10]}`,
          k: 5,
          ...(filtered ? { filter: { cat: { eq: 'common' } } } : {}),
          fields: ['cat'],
        });
        expect(r.statusCode, r.body).toBe(200);
        return r.json<{ data: { cat: string }[]; meta: { exact: boolean; width?: number } }>();
      };
      // The defaults until the model has been searched enough: 300, and 450 with a filter.
      const first = [await search(0, false), await search(0, true)];
      expect(first.map((r) => r.meta.width)).toEqual(h().db.info.vector ? [300, 450] : [undefined, undefined]);
      for (let q = 1; q < 64; q++) {
        await search(q, false);
        await search(q, true);
      }
      await h().built.vectors.widths!.idle();
      type Measured = { width: number; recall: number; samples: number; at: string } | null;
      const status = (await req('GET', '/api/v1/models/tunes/embeddings')).json<{ data: { search: { plain: Measured; filtered: Measured } } }>().data.search;
      if (!h().db.info.vector) {
        // real[] vectors: every search is an exact scan, so there is no width to measure.
        expect(status).toEqual({ plain: null, filtered: null });
        return;
      }
      // Measured on the 64 searches of each kind: a narrower width only if its recall@5 reached
      // 0.98 (as a 95% lower bound) against the exact answers, else the default; never wider.
      for (const [m, fallback] of [
        [status.plain, 300],
        [status.filtered, 450],
      ] as const) {
        expect(m).toMatchObject({ samples: 64 });
        expect(m!.width).toBeLessThanOrEqual(fallback);
        if (m!.width < fallback) expect(m!.recall).toBeGreaterThanOrEqual(0.98);
      }
      // Searches now walk at those widths, and filtered ones are still full and all matching.
      const [plain, filtered] = [await search(70, false), await search(70, true)];
      expect(plain.meta.width).toBe(Math.max(status.plain!.width, 10));
      expect(filtered.meta.width).toBe(Math.max(status.filtered!.width, 10));
      expect(filtered.data).toHaveLength(5);
      expect(filtered.data.every((x) => x.cat === 'common')).toBe(true);
    });

    it('OpenAI embeddings: batched through the key, 429s retried with back-off, failures reported with reasons', async () => {
      expect((await req('POST', '/api/v1/models', { name: 'notes', fields: [{ name: 'text', type: 'text' }] })).statusCode).toBe(201);
      expect(
        (await req('POST', '/api/v1/data/notes/bulk', { op: 'create', items: Array.from({ length: 10 }, (_, i) => ({ text: `note number ${i}` })) }))
          .statusCode,
      ).toBe(200);
      fake.failEmbeddings(1, 429);
      const before = fake.seen.length;
      const en = await req('PATCH', '/api/v1/models/notes', {
        embedding: { enabled: true, provider: 'openai', model: 'text-embedding-3-small', dimensions: 64, secretId: openaiSecret },
      });
      expect(en.statusCode, en.body).toBe(200);
      await h().built.embeddings.drain();
      const failing = (await req('GET', '/api/v1/models/notes/embeddings')).json().data;
      expect(failing).toMatchObject({ total: 10, done: 0, pending: 10, failed: 0 });
      expect(failing.failures[0]).toMatchObject({ count: 10, final: false });
      expect(failing.failures[0].reason).toMatch(/429/);
      // The back-off elapses, the worker's poll retries, and all are done.
      await vi.waitFor(
        async () => expect((await req('GET', '/api/v1/models/notes/embeddings')).json().data).toMatchObject({ done: 10, pending: 0, failures: [] }),
        { timeout: 20_000, interval: 200 },
      );
      const calls = fake.seen.slice(before).filter((r) => r.path === '/v1/embeddings');
      expect(calls.length).toBe(2);
      expect(calls.every((c) => c.credential === KEY && (c.body.input as string[]).length === 10 && c.body.dimensions === 64)).toBe(true);
      const hit = (await req('POST', '/api/v1/data/notes/search', { query: 'note number 7', k: 1 })).json().data[0];
      expect(hit.text).toBe('note number 7');

      // A key the provider refuses: failed for good (no retry storm), with the reason, key scrubbed.
      const bad = (
        await req('POST', '/api/v1/secrets', { name: 'bad emb', provider: 'openai', value: 'sk-bad-embedding-key-99999999', baseUrl: `${fake.url}/v1` })
      ).json().data.id as string;
      await req('PATCH', '/api/v1/models/notes', {
        embedding: { enabled: true, provider: 'openai', model: 'text-embedding-3-small', dimensions: 32, secretId: bad },
      });
      await h().built.embeddings.drain();
      const st = (await req('GET', '/api/v1/models/notes/embeddings')).json().data;
      expect(st).toMatchObject({ total: 10, done: 0, failed: 10 });
      expect(st.failures[0].reason).toMatch(/401/);
      expect(JSON.stringify(st)).not.toMatch(/sk-bad|99999999/);
      // Disabling drops the vectors.
      const off = await req('PATCH', '/api/v1/models/notes', { embedding: { enabled: false } });
      expect(off.json().data.embedding.enabled).toBe(false);
      expect((await req('POST', '/api/v1/data/notes/search', { query: 'x' })).json().error.code).toBe('EMBEDDING_NOT_ENABLED');
      // …and the full-text index of its source fields; keyword search still works (over every text field).
      expect((await sql`select 1 from pg_indexes where tablename = 'notes' and indexname like '%\_\_fts\_idx'`.execute(h().db.kysely)).rows).toHaveLength(0);
      expect((await req('POST', '/api/v1/data/notes/search', { query: 'note number 7', mode: 'keyword', k: 1 })).json().data[0].text).toBe('note number 7');
    });

    it('text splitter, prompt template and embed nodes', async () => {
      const text = 'First paragraph about billing.\n\nSecond paragraph about shipping and parcels. '.repeat(20);
      const id = await flow('Split', [
        node('in', 'core.input'),
        node('tpl', 'ai.prompt', { template: 'Summarise: {{ $input.text }}' }),
        node('split', 'ai.split', { text: '{{ $input.prompt }}', size: 200, overlap: 40 }),
        node('emb', 'ai.embed', { provider: 'local', dimensions: 64, text: '{{ $input.text }}' }),
        node('out', 'core.output', {
          value:
            '{{ { "chunks": $count($node["split"].output), "first": $node["split"].output[0].text, "longest": $max($node["split"].output.$length(text)), "overlaps": $node["split"].output[1].start < $node["split"].output[0].end, "dims": $count($input.vectors) ? $count($input.vectors[0]) : 0 } }}',
        }),
      ]);
      const ex = await run(id, { text });
      expect(ex.status, JSON.stringify(ex.error)).toBe('succeeded');
      expect(ex.output.chunks).toBeGreaterThanOrEqual(9);
      expect(ex.output.longest).toBeLessThanOrEqual(200);
      expect(ex.output.overlaps).toBe(true);
      expect(ex.output.first).toMatch(/^Summarise: First paragraph/);
      expect(ex.output.dims).toBe(64);
    });
  },
  {
    INFINITY_HTTP_ALLOW: '127.0.0.1/32',
    INFINITY_QUEUE_POLL: '100',
    INFINITY_DEFAULT_PLAN: 'free',
    INFINITY_PLAN_LIMITS: '{"free":{"tokensPerMonth":1000000,"agents":null}}',
    INFINITY_PUBLIC_RATE_LIMIT: '1000',
  },
);
