import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { type App, createHttpServer } from './server.js';

/** Sends raw bytes on a new connection and collects everything the server writes until it closes. */
function rawExchange(port: number, send: (socket: net.Socket) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => send(socket));
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
}
const bodyOf = (raw: string) => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };

describe('HTTP connection limits and refusals, in the error format', () => {
  let app: App;
  let port = 0;
  const slowAnswerMs = 1500;

  beforeAll(async () => {
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    // The smallest timeouts config accepts, so the test does not wait long for them.
    app = await createHttpServer({
      logger: createLogger({ level: 'silent', destination: sink }),
      bodyLimit: 1024 * 1024,
      http: { headersTimeoutMs: 1000, requestTimeoutMs: 1000, idleTimeoutMs: 5000, maxHeaderSize: 64 * 1024 },
      corsOrigins: ['https://app.example'],
      trustProxy: false,
      publicUrl: 'http://localhost',
      version: 'test',
    });
    app.post('/echo', { config: { access: { public: true } } }, async (request) => ({ data: request.body }));
    app.get('/query', { config: { access: { public: true } } }, async (request) => ({ data: { length: request.url.length } }));
    // An answer that takes longer than the request timeout, like `?wait=true` or a stream.
    app.post('/slow', { config: { access: { public: true } } }, async () => {
      await new Promise((r) => setTimeout(r, slowAnswerMs));
      return { data: 'late but whole' };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  it('no request timeout: headers and half a body get a 408 in the error format and the connection is closed (it stayed open 340 s)', async () => {
    const raw = await rawExchange(port, (s) =>
      s.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"half":'),
    );
    expect(raw).toMatch(/^HTTP\/1\.1 408 /);
    expect(bodyOf(raw).error.code).toBe('REQUEST_TIMEOUT');
  });

  it('headers that never finish get a 408 too', async () => {
    const raw = await rawExchange(port, (s) => s.write('GET /query HTTP/1.1\r\nHost: x\r\nX-Slow: '));
    expect(raw).toMatch(/^HTTP\/1\.1 408 /);
    expect(bodyOf(raw).error.code).toBe('REQUEST_TIMEOUT');
  });

  it('an answer that takes longer than the request timeout is not cut once the request has arrived', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/slow`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: 'late but whole' });
  });

  it('431 for URLs over the header limit is in the error format; a 40 KB URL (1,000 ids in a filter) reaches the route', async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `0190${String(i).padStart(4, '0')}-0000-7000-8000-000000000000`).join(',');
    const ok = await fetch(`http://127.0.0.1:${port}/query?filter[id][in]=${ids}`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { data: { length: number } }).data.length).toBeGreaterThan(36_000);
    const raw = await rawExchange(port, (s) => s.write(`GET /query?x=${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`));
    expect(raw).toMatch(/^HTTP\/1\.1 431 /);
    expect(bodyOf(raw).error).toMatchObject({ code: 'REQUEST_HEADERS_TOO_LARGE' });
  });

  it('bytes that are not HTTP get a 400 in the error format', async () => {
    const raw = await rawExchange(port, (s) => s.write('NONSENSE\r\n\r\n'));
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(raw).error.code).toBe('BAD_REQUEST');
  });

  it('JSON nested 2,000 levels is a 400, not a 500; 100 levels still parse', async () => {
    const deep = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: `${'['.repeat(2000)}${']'.repeat(2000)}`,
    });
    expect(deep.statusCode).toBe(400);
    expect(deep.json().error.code).toBe('INVALID_JSON');
    const strings = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ s: '[[[[{{{{'.repeat(500), t: 'a\\"[' }),
    });
    expect(strings.statusCode).toBe(200);
    const hundred = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: `${'{"a":'.repeat(99)}[1]${'}'.repeat(99)}`,
    });
    expect(hundred.statusCode).toBe(200);
  });

  it('CORS preflight from an unlisted origin is refused with 403 and no allow headers, not a 404; a listed origin is answered', async () => {
    const refused = await app.inject({
      method: 'OPTIONS',
      url: '/api/v1/me',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('CORS_ORIGIN_NOT_ALLOWED');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    const allowed = await app.inject({
      method: 'OPTIONS',
      url: '/api/v1/me',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
    });
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
  });
});
