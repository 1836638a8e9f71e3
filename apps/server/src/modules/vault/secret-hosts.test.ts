import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';

/**
 * Regression for "editors can read any secret": an editor's HTTP node sent an admin's secret to
 * an echo URL of their choice and the value came back in the execution output, readable by
 * viewers. Now a secret goes only to the hosts an admin allowed (redirects included), and what
 * an execution stores or returns has the values it used masked.
 *
 * Two loopback addresses stand for two hosts: 127.0.0.1 is the API the secret is for (it echoes
 * what it receives), 127.0.0.2 is the editor's collector.
 */
const SECRET = 'tok_admin-only_Q7x+/Zr9=k2m8p4v';
const b64 = Buffer.from(SECRET).toString('base64');

interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
}

function server(host: string, handle: (req: http.IncomingMessage, res: http.ServerResponse, base: () => string) => void) {
  const seen: Seen[] = [];
  let url = '';
  const s = http.createServer((req, res) => {
    seen.push({ url: req.url!, headers: req.headers });
    req.resume();
    req.on('end', () => handle(req, res, () => url));
  });
  return {
    seen,
    url: () => url,
    start: () => new Promise<void>((r) => s.listen(0, host, () => ((url = `http://${host}:${(s.address() as AddressInfo).port}`), r()))),
    stop: () => new Promise<void>((r) => s.close(() => r())),
  };
}

const collector = server('127.0.0.2', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"got":true}'));
const api = server('127.0.0.1', (req, res) => {
  if (req.url?.startsWith('/redirect')) return void res.writeHead(302, { location: `${collector.url()}/collect` }).end();
  const echo = JSON.stringify({ url: req.url, authorization: req.headers.authorization ?? null, token: req.headers['x-token'] ?? null });
  res.writeHead(req.url?.startsWith('/fail') ? 400 : 200, { 'content-type': 'application/json' }).end(echo);
});

beforeAll(async () => {
  await collector.start();
  await api.start();
});
afterAll(async () => {
  await api.stop();
  await collector.stop();
});

const node = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, name: id, position: { x: 0, y: 0 }, params });
const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, sourceHandle: 'main', target, targetHandle: 'main' });

describeEachDb(
  'vault: a secret goes only to its allowed hosts, and executions never show it',
  (h) => {
    let editor: string;
    let viewer: string;
    let secretId: string;

    /** An editor's flow: manual → HTTP with the secret; run and read back as the editor sees it and as a viewer does. */
    async function runHttp(params: Record<string, unknown>) {
      const flow = await h().request({
        method: 'POST',
        url: '/api/v1/flows',
        apiKey: editor,
        body: {
          name: `f${Math.random()}`,
          nodes: [node('start', 'trigger.manual'), node('call', 'core.http', { secretId, ...params })],
          edges: [edge('start', 'call')],
        },
      });
      expect(flow.statusCode, flow.body).toBe(201);
      const run = await h().request({
        method: 'POST',
        url: `/api/v1/flows/${flow.json().data.id as string}/run?wait=true`,
        apiKey: editor,
        body: { input: {} },
      });
      expect(run.statusCode, run.body).toBeLessThan(300);
      const stored = await h().request({ method: 'GET', url: `/api/v1/executions/${run.json().data.id as string}`, apiKey: viewer });
      expect(stored.statusCode).toBe(200);
      const call = (stored.json().data.nodes as { nodeId: string; output: unknown; error: { code: string; message: string } | null }[]).find(
        (n) => n.nodeId === 'call',
      )!;
      return { run: run.json().data, seenBy: [run.body, stored.body], call };
    }

    const leaks = (texts: string[]) => texts.filter((t) => t.includes(SECRET) || t.includes(b64) || t.includes(encodeURIComponent(SECRET)));

    it('setup: an admin stores a secret allowed for 127.0.0.1 only', async () => {
      const owner = await signUp(h());
      editor = (await createApiKey(h(), owner.token, 'editor')).key;
      viewer = (await createApiKey(h(), owner.token, 'viewer')).key;
      const s = await h().request({
        method: 'POST',
        url: '/api/v1/secrets',
        token: owner.token,
        body: { name: 'partner api', provider: 'generic', value: SECRET, allowedHosts: ['127.0.0.1'] },
      });
      expect(s.statusCode, s.body).toBe(201);
      secretId = s.json().data.id;
    });

    it('an editor cannot send the secret to a host of their choice, in any auth style; nothing is sent', async () => {
      for (const auth of [{ authType: 'header', authName: 'x-token' }, { authType: 'bearer' }, { authType: 'basic' }, { authType: 'query', authName: 'key' }]) {
        const { run, seenBy, call } = await runHttp({ url: `${collector.url()}/echo`, ...auth });
        expect(run.status, auth.authType).toBe('failed');
        expect(call.error?.code).toBe('VAULT_SECRET_HOST_NOT_ALLOWED');
        expect(call.error?.message).toContain('127.0.0.2');
        expect(leaks(seenBy)).toEqual([]);
      }
      expect(collector.seen).toEqual([]);
    });

    it('regression (review of #25): a Host header naming another host does not carry the secret past the URL check', async () => {
      // A shared front end (CDN, ingress) routes by Host, and TLS takes its server name from it.
      const before = api.seen.length;
      for (const host of ['leak.attacker.example', 'LEAK.attacker.example.', '127.0.0.2']) {
        const { run, seenBy, call } = await runHttp({ url: `${api.url()}/echo`, authType: 'bearer', headers: { Host: host } });
        expect(run.status, host).toBe('failed');
        expect(call.error?.code).toBe('VAULT_SECRET_HOST_NOT_ALLOWED');
        expect(leaks(seenBy)).toEqual([]);
      }
      expect(api.seen.length).toBe(before);
      expect(collector.seen).toEqual([]);
    });

    it('a redirect from the allowed host to another host is not followed with the secret', async () => {
      const { run, seenBy, call } = await runHttp({ url: `${api.url()}/redirect`, authType: 'header', authName: 'x-token' });
      expect(run.status).toBe('failed');
      expect(call.error?.code).toBe('VAULT_SECRET_HOST_NOT_ALLOWED');
      expect(api.seen.at(-1)!.headers['x-token']).toBe(SECRET);
      expect(collector.seen).toEqual([]);
      expect(leaks(seenBy)).toEqual([]);
    });

    it('on the allowed host, an echo of the secret (raw, Bearer, Basic base64, URL-encoded) is masked in outputs, errors and what viewers read', async () => {
      for (const auth of [{ authType: 'header', authName: 'x-token' }, { authType: 'bearer' }, { authType: 'basic' }, { authType: 'query', authName: 'key' }]) {
        const { run, seenBy, call } = await runHttp({ url: `${api.url()}/echo`, ...auth });
        expect(run.status, auth.authType).toBe('succeeded');
        expect(JSON.stringify(call.output)).toContain('[redacted]');
        expect(leaks(seenBy), auth.authType).toEqual([]);
      }
      // The server did get the real value: masking is for what is stored and shown, not what is sent.
      expect(api.seen.some((s) => s.headers.authorization === `Basic ${b64}`)).toBe(true);
      const failed = await runHttp({ url: `${api.url()}/fail`, authType: 'bearer' });
      expect(failed.call.error?.code).toBe('HTTP_STATUS');
      expect(JSON.stringify(failed.call)).toContain('[redacted]');
      expect(leaks(failed.seenBy)).toEqual([]);
      expect(
        leaks([
          JSON.stringify(
            await h()
              .db.pool.query('select * from node_runs')
              .then((r) => r.rows),
          ),
          JSON.stringify(
            await h()
              .db.pool.query('select output, error from executions')
              .then((r) => r.rows),
          ),
        ]),
      ).toEqual([]);
      expect(leaks(h().logs)).toEqual([]);
    });

    it('an admin can widen the hosts; then the same call goes through', async () => {
      const owner = await signUp(h(), 'Second');
      const admin = (await createApiKey(h(), owner.token, 'admin')).key;
      editor = (await createApiKey(h(), owner.token, 'editor')).key;
      viewer = (await createApiKey(h(), owner.token, 'viewer')).key;
      const s = await h().request({
        method: 'POST',
        url: '/api/v1/secrets',
        apiKey: admin,
        body: { name: 'later', provider: 'generic', value: SECRET, allowedHosts: [] },
      });
      secretId = s.json().data.id;
      expect((await runHttp({ url: `${api.url()}/echo` })).call.error?.code).toBe('VAULT_SECRET_HOST_NOT_ALLOWED');
      expect(
        (await h().request({ method: 'PATCH', url: `/api/v1/secrets/${secretId}`, apiKey: admin, body: { allowedHosts: ['127.0.0.1'] } })).statusCode,
      ).toBe(200);
      expect((await runHttp({ url: `${api.url()}/echo` })).run.status).toBe('succeeded');
    });
  },
  { INFINITY_HTTP_ALLOW: '127.0.0.0/8', INFINITY_QUEUE_POLL: '100' },
);
