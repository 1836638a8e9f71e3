import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboundHttp, OutboundRefused } from './outbound-http.js';

/** Every spelling of a private, loopback, link-local, metadata or unspecified address. */
const REFUSED = [
  'http://127.0.0.1/',
  'http://127.1/',
  'http://2130706433/', // decimal
  'http://0x7f000001/', // hex
  'http://0177.0.0.1/', // octal
  'http://0x7f.0.0.1/',
  'http://localhost/',
  'http://[::1]/',
  'http://[::ffff:127.0.0.1]/', // IPv4-mapped IPv6
  'http://[::ffff:7f00:1]/',
  'http://[0:0:0:0:0:ffff:169.254.169.254]/',
  'http://169.254.169.254/latest/meta-data/', // cloud metadata
  'http://[fe80::1]/',
  'http://10.0.0.1/',
  'http://172.16.5.4/',
  'http://192.168.1.1/',
  'http://100.64.0.1/', // carrier-grade NAT
  'http://0.0.0.0/',
  'http://[::]/',
  'http://224.0.0.1/',
  'http://[fc00::1]/',
  'http://[64:ff9b::7f00:1]/', // NAT64 of 127.0.0.1
  'http://[2002:7f00:1::]/', // 6to4 of 127.0.0.1
];

describe('outbound HTTP SSRF guard', () => {
  const guard = new OutboundHttp({ allow: [] });
  afterAll(() => guard.close());

  it.each(REFUSED)('refuses %s by default', async (url) => {
    const err = await guard.request({ method: 'GET', url, timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutboundRefused);
    expect((err as OutboundRefused).reason).toBe('address');
  });

  it('refuses other schemes and credentials in the URL', async () => {
    for (const url of ['file:///etc/passwd', 'gopher://x/', 'ftp://example.com/', 'http://user:pw@example.com/']) {
      await expect(guard.request({ method: 'GET', url })).rejects.toBeInstanceOf(OutboundRefused);
    }
  });

  it('allows public unicast addresses (checked without connecting)', () => {
    for (const ip of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111']) expect(guard.addressAllowed(ip)).toBe(true);
  });
});

describe('outbound HTTP with an allow-list', () => {
  let base = '';
  let redirectTo = '';
  const server = http.createServer((req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(302, { location: redirectTo }).end();
      return;
    }
    if (req.url === '/big') {
      res.writeHead(200).end('x'.repeat(5000));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('reaches an allowed loopback address, by IP and by an allowed name', async () => {
    const ok = new OutboundHttp({ allow: ['127.0.0.1/32', 'localhost'] });
    const r = await ok.request({ method: 'GET', url: `${base}/x` });
    expect(r.status).toBe(200);
    expect(Buffer.from(r.body).toString()).toBe('{"ok":true}');
    const byName = await ok.request({ method: 'GET', url: `${base.replace('127.0.0.1', 'localhost')}/x` });
    expect(byName.status).toBe(200);
    await ok.close();
  });

  it('re-checks every redirect hop', async () => {
    const ok = new OutboundHttp({ allow: ['127.0.0.1/32'] });
    redirectTo = 'http://169.254.169.254/latest/meta-data/';
    await expect(ok.request({ method: 'GET', url: `${base}/redirect` })).rejects.toMatchObject({ reason: 'address' });
    redirectTo = `${base}/x`;
    expect((await ok.request({ method: 'GET', url: `${base}/redirect` })).url).toBe(`${base}/x`);
    await ok.close();
  });

  it('caps the response size', async () => {
    const ok = new OutboundHttp({ allow: ['127.0.0.1/32'] });
    await expect(ok.request({ method: 'GET', url: `${base}/big`, maxBytes: 1000 })).rejects.toMatchObject({ reason: 'too_large' });
    await ok.close();
  });

  it('without the allow-list, the same server is refused', async () => {
    const closed = new OutboundHttp({ allow: [] });
    await expect(closed.request({ method: 'GET', url: `${base}/x` })).rejects.toMatchObject({ reason: 'address' });
    await closed.close();
  });
});
