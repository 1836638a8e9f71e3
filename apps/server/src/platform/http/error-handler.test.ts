import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../logger.js';
import { createHttpServer } from './server.js';

async function appWithLogs() {
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const app = await createHttpServer({
    logger: createLogger({ level: 'info', destination }),
    bodyLimit: 1024,
    corsOrigins: ['https://ok.example'],
    trustProxy: false,
    publicUrl: 'http://x',
    version: 't',
  });
  return { app, logs };
}

describe('HTTP platform', () => {
  it('turns an unexpected error into a 500 with a request id, no stack or internals, and logs the stack', async () => {
    const { app, logs } = await appWithLogs();
    app.get('/boom', { config: { access: { public: true } } }, async () => {
      throw new Error('db password is hunter2 at /srv/secret.ts:12');
    });
    const r = await app.inject({ method: 'GET', url: '/boom', headers: { 'x-request-id': 'req-123' } });
    expect(r.statusCode).toBe(500);
    expect(r.json()).toEqual({ error: { code: 'INTERNAL', message: expect.any(String), requestId: 'req-123' } });
    expect(r.body).not.toContain('hunter2');
    expect(r.headers['x-request-id']).toBe('req-123');
    const line = logs.find((l) => l.includes('request failed'));
    expect(line).toContain('"requestId":"req-123"');
    expect(line).toContain('"stack"');
  });

  it('refuses a response that does not match its schema rather than leak extra fields', async () => {
    const { app } = await appWithLogs();
    app.get(
      '/leaky',
      { config: { access: { public: true } }, schema: { response: { 200: z.object({ id: z.string() }) } } },
      async () => ({ id: 'x', passwordHash: 'secret' }) as { id: string },
    );
    const r = await app.inject({ method: 'GET', url: '/leaky' });
    expect(r.body).not.toContain('secret');
  });

  it('ignores a request id that is not a safe token and makes one', async () => {
    const { app } = await appWithLogs();
    app.get('/ok', { config: { access: { public: true } } }, async () => ({ ok: true }));
    const r = await app.inject({ method: 'GET', url: '/ok', headers: { 'x-request-id': 'bad id\nwith newline' } });
    expect(r.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends security headers and answers CORS only for listed origins', async () => {
    const { app } = await appWithLogs();
    app.get('/ok', { config: { access: { public: true } } }, async () => ({ ok: true }));
    const ok = await app.inject({ method: 'GET', url: '/ok', headers: { origin: 'https://ok.example' } });
    expect(ok.headers['access-control-allow-origin']).toBe('https://ok.example');
    expect(ok.headers['x-content-type-options']).toBe('nosniff');
    expect(ok.headers['content-security-policy']).toContain("default-src 'self'");
    const other = await app.inject({ method: 'GET', url: '/ok', headers: { origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
