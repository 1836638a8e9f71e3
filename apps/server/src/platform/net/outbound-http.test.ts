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
  // Regression: IPv4-compatible IPv6 spellings of loopback got through.
  'http://[::127.0.0.1]/', // IPv4-compatible (deprecated ::/96), written by the URL parser as [::7f00:1]
  'http://[::7f00:1]/',
  'http://[0:0:0:0:0:0:127.0.0.1]/',
  'http://[::a00:1]/', // IPv4-compatible 10.0.0.1
  'http://[::a9fe:a9fe]/', // IPv4-compatible metadata
  'http://[::ffff:0:7f00:1]/', // IPv4-translated (RFC 6145) 127.0.0.1
  'http://[::ffff:a9fe:a9fe]/', // IPv4-mapped metadata, hex
  'http://[::ffff:0.0.0.0]/',
  'http://[64:ff9b::10.0.0.1]/', // NAT64 of a private address
  'http://[64:ff9b::a9fe:a9fe]/', // NAT64 of the metadata address
  'http://[64:ff9b:1::808:808]/', // local-use NAT64 (RFC 8215)
  'http://[2002:a00:1::]/', // 6to4 of 10.0.0.1
  'http://[2002:a9fe:a9fe::1]/', // 6to4 of the metadata address
  'http://[2002:c0a8:101::]/', // 6to4 of 192.168.1.1
  'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', // Teredo
  'http://[fec0::1]/', // deprecated site-local
  'http://[100::1]/', // discard
  'http://[2001:db8::1]/', // documentation
  'http://[5f00::1]/', // segment routing, outside global unicast
  'http://[ff02::1]/', // multicast
  'http://017700000001/', // octal, one number
  'http://0x7f.1/', // hex, short form
  'http://127.000.000.001/',
  'http://0/',
  'http://012.0.0.1/', // octal 10.0.0.1
  'http://0x0a.0.0.1/', // hex 10.0.0.1
  'http://167772161/', // decimal 10.0.0.1
  'http://0xa9.0xfe.0xa9.0xfe/', // hex metadata
  'http://[::ffff:7f00:1]:8080/',
];

/** Public addresses in the same spellings: checked without connecting. */
const ALLOWED = [
  'http://8.8.8.8/',
  'http://134744072/', // decimal 8.8.8.8
  'http://[2606:4700:4700::1111]/',
  'http://[::ffff:8.8.8.8]/',
  'http://[64:ff9b::808:808]/', // NAT64 of a public address
  'http://[2002:808:808::]/', // 6to4 of a public address
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

  it.each(ALLOWED)('lets %s through (public, checked without connecting)', (url) => {
    expect(() => guard.checkUrl(url)).not.toThrow();
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
