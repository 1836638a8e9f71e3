/**
 * A running Infinity for the node tests: the built `infinity start` as a process (on the database
 * `backend` names), an organization, API keys of two roles, and a model of every field type the
 * resource mapper types.
 */
import { e2eEnv, startServer, type RunningServer } from '../../../test/e2e/server-process';

export interface Infinity {
  server: RunningServer;
  url: string;
  token: string;
  editorKey: string;
  /** Webhooks (the trigger's subscriptions) need admin. */
  adminKey: string;
  viewerKey: string;
  /** A call with the owner's token; answers status and parsed JSON. */
  call: (method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }>;
}

export async function startInfinity(backend: 'pglite' | 'postgres', label: string): Promise<Infinity> {
  const env = { ...(await e2eEnv(backend, label)), INFINITY_HTTP_ALLOW: '127.0.0.1/32' };
  const server = await startServer([], env);
  const url = server.url;
  const signup = await fetch(`${url}/api/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Ops', email: `ops-${label}@example.com`, password: 'ops password 1' }),
  });
  const token = ((await signup.json()) as { data: { accessToken: string } }).data.accessToken;
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    return { status: r.status, json: text ? JSON.parse(text) : undefined };
  };
  const key = async (role: string) => {
    const r = await call('POST', '/api-keys', { name: `n8n ${role}`, role });
    if (r.status !== 201) throw new Error(`api key: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json.data.key as string;
  };
  return { server, url, token, editorKey: await key('editor'), adminKey: await key('admin'), viewerKey: await key('viewer'), call };
}

/** `contacts`: one field of every type the node maps (relation aside), `email` unique. */
export const CONTACTS = {
  name: 'contacts',
  label: 'Contacts',
  fields: [
    { name: 'email', type: 'string', required: true, unique: true },
    { name: 'name', type: 'string' },
    { name: 'bio', type: 'text' },
    { name: 'age', type: 'integer' },
    { name: 'score', type: 'number' },
    { name: 'active', type: 'boolean', default: true },
    { name: 'born', type: 'date' },
    { name: 'seen_at', type: 'datetime' },
    { name: 'level', type: 'enum', values: ['junior', 'senior'] },
    { name: 'meta', type: 'json' },
    { name: 'tags', type: 'array', items: 'string' },
  ],
};
