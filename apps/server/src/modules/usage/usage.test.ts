import { sql } from 'kysely';
import { expect, it } from 'vitest';
import type { EventOf } from '../../platform/events/index.js';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { fakeAiForSuite } from '../../platform/testing/fake-ai.js';
import { fakeSmtp, forSuite } from '../../platform/testing/fake-services.js';
import { describeEachDb } from '../../platform/testing/harness.js';

const KEY = 'sk-usage-test-key-5d21aa';
const fake = fakeAiForSuite(KEY);
const smtp = forSuite(fakeSmtp);

const node = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });
const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, target });

describeEachDb(
  'usage: plans, quotas, alerts, notifications',
  (h) => {
    let owner: Awaited<ReturnType<typeof signUp>>;
    let key: string;
    let secretId: string;
    const req = (method: string, url: string, body?: unknown, k = key) => h().request({ method, url, apiKey: k, body });
    const metric = async (name: string) =>
      ((await req('GET', '/api/v1/usage')).json().data.metrics as { metric: string; used: number; limit: number | null; percent: number | null }[]).find(
        (m) => m.metric === name,
      )!;

    it('a free organization cannot create a second agent; the error names the limit', async () => {
      owner = await signUp(h());
      key = (await createApiKey(h(), owner.token, 'admin')).key;
      secretId = (await req('POST', '/api/v1/secrets', { name: 'OpenAI', provider: 'openai', value: KEY, baseUrl: `${fake.url}/v1` })).json().data.id;
      const agent = { provider: 'openai', model: 'gpt-4o-mini', secretId };
      expect((await req('POST', '/api/v1/agents', { name: 'First', ...agent })).statusCode).toBe(201);
      const second = await req('POST', '/api/v1/agents', { name: 'Second', ...agent });
      expect(second.statusCode).toBe(402);
      expect(second.json().error).toMatchObject({ code: 'PLAN_LIMIT_REACHED', details: { metric: 'agents', limit: 1, used: 1, plan: 'free' } });
      expect(second.json().error.message).toMatch(/free plan allows 1 agents/);
      expect(((await req('GET', '/api/v1/agents')).json().data as unknown[]).length).toBe(1);
      const u = (await req('GET', '/api/v1/usage')).json().data;
      expect(u.plan).toBe('free');
      expect(u.metrics.map((m: { metric: string }) => m.metric)).toEqual([
        'agents',
        'flows',
        'models',
        'records',
        'storageMb',
        'executionsPerMonth',
        'tokensPerMonth',
      ]);
      expect(await metric('agents')).toMatchObject({ used: 1, limit: 1, percent: 100 });
    });

    it('models and records stop at their limits; a refused bulk import changes nothing', async () => {
      // INFINITY_PLAN_LIMITS of this suite: free has 2 models and 5 records.
      expect((await req('POST', '/api/v1/models', { name: 'notes', fields: [{ name: 'text', type: 'string' }] })).statusCode).toBe(201);
      expect((await req('POST', '/api/v1/models', { name: 'tags', fields: [{ name: 'name', type: 'string' }] })).statusCode).toBe(201);
      const third = await req('POST', '/api/v1/models', { name: 'third', fields: [{ name: 'x', type: 'string' }] });
      expect(third.json().error).toMatchObject({ code: 'PLAN_LIMIT_REACHED', details: { metric: 'models', limit: 2 } });
      expect(
        (await req('POST', '/api/v1/data/notes/bulk', { op: 'create', items: [{ text: 'a' }, { text: 'b' }, { text: 'c' }, { text: 'd' }] })).statusCode,
      ).toBe(200);
      const tooMany = await req('POST', '/api/v1/data/notes/bulk', { op: 'create', items: [{ text: 'e' }, { text: 'f' }] });
      expect(tooMany.statusCode).toBe(402);
      expect(tooMany.json().error.details).toMatchObject({ metric: 'records', limit: 5, used: 4, adding: 2 });
      expect((await req('POST', '/api/v1/data/notes', { text: 'e' })).statusCode).toBe(201);
      expect((await req('POST', '/api/v1/data/notes', { text: 'f' })).statusCode).toBe(402);
      expect((await req('GET', '/api/v1/data/notes')).json().data).toHaveLength(5);
      // Deleting makes room again.
      const first = (await req('GET', '/api/v1/data/notes?limit=1')).json().data[0].id as string;
      expect((await req('DELETE', `/api/v1/data/notes/${first}`)).statusCode).toBe(204);
      expect((await req('POST', '/api/v1/data/notes', { text: 'f' })).statusCode).toBe(201);
    });

    it('passing 80% of the token limit makes exactly one notification and one email; at 100% the next call is refused before the provider is asked', async () => {
      await h().built.quotas.settle();
      // Alerts of the other metrics passed so far (agents 1/1, models 2/2, records 5/5) are there already.
      const earlier = (await req('GET', '/api/v1/notifications')).json();
      expect(earlier.data.map((n: { data: { metric: string; threshold: number } }) => `${n.data.metric}:${n.data.threshold}`).sort()).toEqual([
        'agents:100',
        'models:100',
        'records:100',
        'records:80',
      ]);
      await req('POST', '/api/v1/notifications/read-all');
      const tokenAlerts = async () => {
        const all = (await req('GET', '/api/v1/notifications')).json();
        return { data: all.data.filter((n: { data: { metric: string } }) => n.data.metric === 'tokensPerMonth'), unread: all.meta.unread as number };
      };
      const alerts: EventOf<'usage.alert'>[] = [];
      const off = h().built.events.subscribe('usage.alert', (e) => void alerts.push(e));
      const f = await req('POST', '/api/v1/flows', {
        name: 'Ask',
        nodes: [
          node('in', 'core.input'),
          node('llm', 'ai.chat', { secretId, model: 'gpt-4o-mini', prompt: '{{ $input.q }}' }),
          node('out', 'core.output', { value: '{{ $input.text }}' }),
        ],
        edges: [edge('in', 'llm'), edge('llm', 'out')],
      });
      const flowId = f.json().data.id as string;
      const ask = async (q: string) =>
        (await req('POST', `/api/v1/flows/${flowId}/run?wait=true`, { input: { q } })).json().data as {
          status: string;
          error: { code: string; details: Record<string, unknown> } | null;
        };
      // Earlier use this month: 790 of 1,000 tokens.
      await sql`insert into ai_usage (org_id, provider, model, kind, input_tokens, output_tokens) values (${owner.orgId}, 'openai', 'gpt-4o-mini', 'chat', 780, 10)`.execute(
        h().db.kysely,
      );
      const mailsBefore = smtp().mails.length;

      expect((await ask('hello there')).status).toBe('succeeded');
      await h().built.quotas.settle();
      const used = (await metric('tokensPerMonth')).used;
      expect(used).toBeGreaterThanOrEqual(800);
      expect(used).toBeLessThan(1000);
      expect((await ask('and again')).status).toBe('succeeded');
      await h().built.quotas.settle();

      let list = await tokenAlerts();
      expect(list.data).toHaveLength(1);
      expect(list.data[0]).toMatchObject({ kind: 'usage.alert', read: false, data: { metric: 'tokensPerMonth', threshold: 80, limit: 1000, plan: 'free' } });
      expect(list.data[0].title).toBe('80% of the LLM tokens this month limit used');
      expect(list.unread).toBe(1);
      expect(smtp().mails.length - mailsBefore).toBe(1);
      const mail = smtp().mails.at(-1)!;
      expect(mail.to).toEqual([owner.email]);
      expect(mail.raw).toMatch(/Subject: \[Infinity\] 80% of the LLM tokens this month limit used/);
      expect(alerts).toHaveLength(1);

      // A long prompt passes the limit; the call after it is refused and never reaches the provider.
      expect((await ask('x'.repeat(1200))).status).toBe('succeeded');
      await h().built.quotas.settle();
      const seen = fake.seen.length;
      const refused = await ask('one more');
      expect(refused.status).toBe('failed');
      expect(refused.error).toMatchObject({ code: 'PLAN_LIMIT_REACHED', details: { metric: 'tokensPerMonth', limit: 1000, plan: 'free' } });
      expect(fake.seen.length).toBe(seen);
      list = await tokenAlerts();
      expect(list.data.map((n: { data: { threshold: number } }) => n.data.threshold)).toEqual([100, 80]);
      expect(smtp().mails.length - mailsBefore).toBe(2);
      expect(alerts).toHaveLength(2);
      off();
      expect(alerts.map((a) => [a.metric, a.percent, a.limit])).toEqual([
        ['tokensPerMonth', 80, 1000],
        ['tokensPerMonth', 100, 1000],
      ]);

      // Delivered again (a durable consumer gets each event at least once): no second email.
      for (const a of alerts) h().built.events.publish(a);
      await h().built.quotas.settle();
      expect(smtp().mails.length - mailsBefore).toBe(2);

      // Marking read.
      expect((await req('POST', `/api/v1/notifications/${list.data[1].id as string}/read`)).json().data.updated).toBe(1);
      expect((await req('GET', '/api/v1/notifications?unread=true')).json().data).toHaveLength(1);
      expect((await req('POST', '/api/v1/notifications/read-all')).json().data.updated).toBe(1);
      expect((await req('GET', '/api/v1/notifications')).json().meta.unread).toBe(0);
      expect((await req('POST', '/api/v1/notifications/00000000-0000-7000-8000-000000000000/read')).statusCode).toBe(404);
    });

    it('another organization sees none of it, and an enterprise organization has no limits', async () => {
      const other = await signUp(h());
      const otherKey = (await createApiKey(h(), other.token, 'admin')).key;
      expect((await req('GET', '/api/v1/notifications', undefined, otherKey)).json().data).toEqual([]);
      await sql`update organizations set plan = 'enterprise' where id = ${other.orgId}`.execute(h().db.kysely);
      h().built.quotas.forget(other.orgId);
      const s = (await req('POST', '/api/v1/secrets', { name: 'k', provider: 'openai', value: KEY, baseUrl: `${fake.url}/v1` }, otherKey)).json().data.id;
      for (const name of ['A', 'B', 'C'])
        expect((await req('POST', '/api/v1/agents', { name, provider: 'openai', model: 'gpt-4o-mini', secretId: s }, otherKey)).statusCode).toBe(201);
      const u = (await req('GET', '/api/v1/usage', undefined, otherKey)).json().data;
      expect(u.plan).toBe('enterprise');
      expect(u.metrics.find((m: { metric: string }) => m.metric === 'agents')).toMatchObject({ used: 3, limit: null, percent: null });
    });
  },
  {
    INFINITY_DEFAULT_PLAN: 'free',
    INFINITY_PLAN_LIMITS: JSON.stringify({ free: { tokensPerMonth: 1000, models: 2, records: 5 } }),
    INFINITY_HTTP_ALLOW: '127.0.0.1/32',
    get INFINITY_SMTP_URL() {
      return smtp().url;
    },
  },
);
