/**
 * The OpenAPI documents as real tools read them (issue #28): the built server, an organization
 * with a model of every field type, then
 *  - Redocly CLI's `recommended` rules over the system document and the organization's: zero
 *    errors (and no warning beyond the two known ones below);
 *  - openapi-typescript generates types from the organization's document, and a small client
 *    written against them (list with a filter, create, run a flow) compiles under strict
 *    TypeScript with zero diagnostics, then runs against the server.
 * Everything happens in a temp folder, on loopback.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { testBackends } from '../../apps/server/src/platform/testing/backends.js';
import { e2eEnv, startServer } from './server-process.js';

const root = path.resolve(import.meta.dirname, '../..');
const REDOCLY = path.join(root, 'node_modules/.bin/redocly');

/**
 * Warnings Redocly may give, and why they stay: the test server's URL is loopback (a deployment
 * sets INFINITY_PUBLIC_URL), and a model's typed `/data/<name>/{id}` sits beside the generic
 * `/data/{model}/export` (the server routes the static segment first; ids are UUIDs).
 */
const KNOWN_WARNINGS = new Set(['no-server-example.com', 'no-ambiguous-paths']);

interface Problem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { pointer: string }[];
}

function redoclyLint(dir: string, file: string): Problem[] {
  const r = spawnSync(REDOCLY, ['lint', file, '--config', 'redocly.yaml', '--format', 'json', '--max-problems', '100000'], {
    cwd: dir,
    encoding: 'utf8',
    // No telemetry, no update check: no network beyond loopback.
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    timeout: 120_000,
  });
  if (!r.stdout.trim().startsWith('{')) throw new Error(`redocly lint ${file} gave no report (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return (JSON.parse(r.stdout) as { problems: Problem[] }).problems;
}

const show = (ps: Problem[]) => ps.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`).join('\n');

/** A client as a user writes one: every request and response typed by the generated `paths`. */
const CLIENT = `
import type { components, paths } from './schema';

type EveryField = components['schemas']['EveryField'];
type ListQuery = NonNullable<paths['/api/v1/data/every_field']['get']['parameters']['query']>;
type ListAnswer = paths['/api/v1/data/every_field']['get']['responses'][200]['content']['application/json'];
type NewRecord = paths['/api/v1/data/every_field']['post']['requestBody']['content']['application/json'];
type Created = paths['/api/v1/data/every_field']['post']['responses'][201]['content']['application/json'];
type RunBody = paths['/api/v1/flows/{id}/run']['post']['requestBody']['content']['application/json'];
type RunAnswer = paths['/api/v1/flows/{id}/run']['post']['responses'][200]['content']['application/json'];
type ErrorBody = components['schemas']['Error'];

export type Send = (method: 'GET' | 'POST', url: string, body?: unknown) => Promise<{ status: number; json: unknown }>;

const query = (q: ListQuery) =>
  Object.entries(q)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => \`\${k}=\${encodeURIComponent(String(v))}\`)
    .join('&');

export async function listByEnum(send: Send, e: 'a' | 'b'): Promise<EveryField[]> {
  const q: ListQuery = { filter: JSON.stringify({ e: { eq: e } }), sort: '-createdAt', limit: 10, count: 'exact' };
  const r = await send('GET', \`/api/v1/data/every_field?\${query(q)}\`);
  const answer = r.json as ListAnswer;
  const total: number | null = answer.meta.total;
  if (total !== answer.data.length) throw new Error('total and data disagree');
  return answer.data;
}

export async function create(send: Send, companyId: string): Promise<EveryField> {
  const body: NewRecord = {
    s: 'abc',
    t: 'long text',
    i: 3,
    n: 2.5,
    b: false,
    d: '2026-12-08',
    dt: '2026-12-08T01:02:03Z',
    js: { nested: [1, 'two'] },
    arr: ['x', 'y'],
    e: 'b',
    company: companyId,
    twin: null,
  };
  // @ts-expect-error an enum field takes only its values
  const wrong: NewRecord = { e: 'c' };
  void wrong;
  const r = await send('POST', '/api/v1/data/every_field', body);
  if (r.status !== 201) throw new Error((r.json as ErrorBody).error.code);
  const created: EveryField = (r.json as Created).data;
  const id: string = created.id;
  const enumValue: 'a' | 'b' | null | undefined = created.e;
  void enumValue;
  return { ...created, id };
}

export async function runFlow(send: Send, flowId: string): Promise<RunAnswer['data']['status']> {
  const body: RunBody = { input: { hello: ['world', 1, true, null] } };
  const r = await send('POST', \`/api/v1/flows/\${flowId}/run?wait=true\`, body);
  return (r.json as RunAnswer).data.status;
}
`;

function compile(dir: string): string[] {
  const program = ts.createProgram([path.join(dir, 'client.ts')], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts'],
    types: [],
    noUnusedLocals: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
  });
  return ts
    .getPreEmitDiagnostics(program)
    .map(
      (d) =>
        `${d.file ? `${path.basename(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1} ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
    );
}

for (const backend of testBackends()) {
  describe(`OpenAPI documents as tools read them [${backend}]`, () => {
    it('Redocly recommended finds no error in either document; openapi-typescript types compile and drive the API', { timeout: 300_000 }, async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'infinity-openapi-'));
      const s = await startServer([], await e2eEnv(backend, 'openapi-tools'));
      try {
        const signup = await fetch(`${s.url}/api/v1/auth/signup`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Dev', email: 'dev@example.com', password: 'dev password 1' }),
        });
        const token = ((await signup.json()) as { data: { accessToken: string } }).data.accessToken;
        const send = async (method: string, url: string, body?: unknown) => {
          const r = await fetch(`${s.url}${url}`, {
            method,
            headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          });
          const text = await r.text();
          return { status: r.status, json: text ? (JSON.parse(text) as unknown) : undefined };
        };
        const ok = async (method: string, url: string, body: unknown, status: number) => {
          const r = await send(method, url, body);
          expect(r.status, JSON.stringify(r.json)).toBe(status);
          return (r.json as { data: { id: string } }).data;
        };
        await ok('POST', '/api/v1/models', { name: 'companies', fields: [{ name: 'name', type: 'string', required: true }] }, 201);
        // Every field type of the schema module, relations of both kinds, and defaults of each kind.
        await ok(
          'POST',
          '/api/v1/models',
          {
            name: 'every_field',
            fields: [
              { name: 's', type: 'string', required: true, max: 40, pattern: '^[a-z]+$', default: 'x' },
              { name: 't', type: 'text', label: 'Long text' },
              { name: 'i', type: 'integer', min: 1, default: 2 },
              { name: 'n', type: 'number', description: 'A number' },
              { name: 'b', type: 'boolean', default: true },
              { name: 'd', type: 'date', default: '2026-01-01' },
              { name: 'dt', type: 'datetime' },
              { name: 'js', type: 'json', default: { a: [1, { b: null }] } },
              { name: 'arr', type: 'array', items: 'string', max: 5, default: ['p'] },
              { name: 'e', type: 'enum', values: ['a', 'b'], default: 'a' },
              { name: 'company', type: 'relation', target: 'companies', kind: 'many-to-one', onDelete: 'cascade' },
              { name: 'twin', type: 'relation', target: 'companies', kind: 'one-to-one', onDelete: 'set null' },
            ],
          },
          201,
        );
        const company = await ok('POST', '/api/v1/data/companies', { name: 'Acme' }, 201);
        await ok('POST', '/api/v1/data/every_field', { s: 'seed', e: 'a' }, 201);
        const flow = await ok('POST', '/api/v1/flows?template=blank', { name: 'Echo' }, 201);

        // The system document (no credential) and the organization's (with its models).
        const anonymous = await fetch(`${s.url}/api/v1/openapi.json`);
        expect(anonymous.status).toBe(200);
        const system = (await anonymous.json()) as { paths: object };
        const org = await send('GET', '/api/v1/openapi.json');
        expect(org.status).toBe(200);
        expect(Object.keys(system.paths)).not.toContain('/api/v1/data/every_field/{id}');
        expect(Object.keys((org.json as { paths: object }).paths)).toContain('/api/v1/data/every_field/{id}');
        writeFileSync(path.join(dir, 'system.json'), JSON.stringify(system));
        writeFileSync(path.join(dir, 'org.json'), JSON.stringify(org.json));
        writeFileSync(path.join(dir, 'redocly.yaml'), 'extends:\n  - recommended\n');

        for (const file of ['system.json', 'org.json']) {
          const problems = redoclyLint(dir, file);
          const errors = problems.filter((p) => p.severity === 'error');
          expect(errors, `${file}:\n${show(errors)}`).toEqual([]);
          const unexpected = problems.filter((p) => !KNOWN_WARNINGS.has(p.ruleId));
          expect(unexpected, `${file}:\n${show(unexpected)}`).toEqual([]);
        }

        const types = astToString(await openapiTS(org.json as Parameters<typeof openapiTS>[0], { silent: true }));
        writeFileSync(path.join(dir, 'schema.d.ts'), types);
        writeFileSync(path.join(dir, 'client.ts'), CLIENT);
        const diagnostics = compile(dir);
        expect(diagnostics, diagnostics.join('\n')).toEqual([]);

        // The client compiles; it also works: run it (types erased) against the server.
        const js = ts.transpileModule(CLIENT, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText;
        writeFileSync(path.join(dir, 'client.mjs'), js);
        const client = (await import(pathToFileURL(path.join(dir, 'client.mjs')).href)) as {
          listByEnum: (send: unknown, e: string) => Promise<{ s: string }[]>;
          create: (send: unknown, companyId: string) => Promise<{ id: string; e: string; company: string }>;
          runFlow: (send: unknown, flowId: string) => Promise<string>;
        };
        const created = await client.create(send, company.id);
        expect(created).toMatchObject({ e: 'b', company: company.id });
        expect((await client.listByEnum(send, 'a')).map((r) => r.s)).toEqual(['seed']);
        expect((await client.listByEnum(send, 'b')).map((r) => r.s)).toEqual(['abc']);
        expect(await client.runFlow(send, flow.id)).toBe('succeeded');
      } finally {
        await s.stop();
      }
    });
  });
}
