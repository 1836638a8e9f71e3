import dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { Agent, fetch as undiciFetch, request as undiciRequest } from 'undici';

/**
 * Outbound HTTP for user-configured requests (HTTP node, AI base URLs, webhooks) with SSRF
 * protection on by default:
 *  - only globally routable unicast addresses are reached; loopback, private, link-local (cloud
 *    metadata 169.254.169.254), CGNAT, multicast, unspecified, IPv6 outside 2000::/3 (so the
 *    IPv4-compatible ::127.0.0.1) and Teredo are refused; IPv6 forms that embed IPv4 (mapped,
 *    translated, NAT64, 6to4) are judged by the IPv4 address they carry — an IP literal in any
 *    spelling (decimal, octal, hex, short) is normalized by the URL parser first, then checked;
 *  - a host name is resolved once and the connection made to the checked address (the lookup
 *    the socket uses is the one that checks), so DNS rebinding cannot switch it afterwards;
 *  - redirects are followed by hand, each hop checked the same way;
 *  - the operator's allow-list (CIDR ranges or exact host names) opens chosen addresses, such as
 *    a local Ollama or a test server.
 */

export interface OutboundRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  timeoutMs?: number;
  maxBytes?: number;
  /** Past maxBytes: refuse (default), or keep the first maxBytes and stop reading (`truncated` is set). */
  overflow?: 'refuse' | 'truncate';
  maxRedirects?: number;
  signal?: AbortSignal;
  /** Called with each redirect's target before it is followed (the same headers go there); throw to refuse it. */
  onRedirect?: (next: URL) => void;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
  url: string;
  /** The body was cut at maxBytes (overflow: 'truncate'). */
  truncated?: boolean;
}

export class OutboundRefused extends Error {
  constructor(
    message: string,
    readonly reason: 'address' | 'scheme' | 'too_large' | 'redirects' | 'url',
  ) {
    super(message);
    this.name = 'OutboundRefused';
  }
}

export interface OutboundPolicy {
  /** CIDR ranges ("10.0.0.0/8", "127.0.0.1/32", "::1/128") and exact host names ("ollama.lan"). */
  allow: string[];
}

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

function parseAllow(entries: string[]): { ranges: Range[]; hosts: Set<string> } {
  const ranges: Range[] = [];
  const hosts = new Set<string>();
  for (const raw of entries.map((e) => e.trim()).filter(Boolean)) {
    if (raw.includes('/')) ranges.push(ipaddr.parseCIDR(raw));
    else if (ipaddr.isValid(raw)) {
      const a = ipaddr.parse(raw);
      ranges.push([a, a.kind() === 'ipv4' ? 32 : 128]);
    } else hosts.add(raw.toLowerCase());
  }
  return { ranges, hosts };
}

const GLOBAL_UNICAST_V6: Range = [ipaddr.IPv6.parse('2000::'), 3];
const LOCAL_NAT64: Range = [ipaddr.IPv6.parse('64:ff9b:1::'), 48];

/**
 * The IPv4 address an IPv6 one carries, for the spellings that reach it: IPv4-mapped
 * (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4
 * (2002:aabb:ccdd::). Null when it carries none, or one that cannot be checked.
 */
function embeddedIPv4(a: ipaddr.IPv6): ipaddr.IPv4 | null {
  const p = a.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  switch (a.range()) {
    case 'ipv4Mapped':
    case 'rfc6145':
      return v4(p[6]!, p[7]!);
    case 'rfc6052':
      return a.match(LOCAL_NAT64) ? null : v4(p[6]!, p[7]!);
    case '6to4':
      return v4(p[1]!, p[2]!);
    default:
      return null;
  }
}

/**
 * Whether an address is public: IPv4 unicast, or IPv6 global unicast (2000::/3) that is not a
 * special range — the deprecated IPv4-compatible form (::127.0.0.1, written [::7f00:1]) is not
 * in 2000::/3 and is refused; Teredo is refused (its IPv4 is obfuscated); forms that embed an
 * IPv4 address are judged by that address.
 */
function isPublic(a: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  if (a.kind() === 'ipv4') return a.range() === 'unicast';
  const v6 = a as ipaddr.IPv6;
  const v4 = embeddedIPv4(v6);
  if (v4) return v4.range() === 'unicast';
  return v6.range() === 'unicast' && v6.match(GLOBAL_UNICAST_V6);
}

export class OutboundHttp {
  private readonly ranges: Range[];
  private readonly hosts: Set<string>;
  private readonly agent: Agent;

  constructor(policy: OutboundPolicy) {
    const { ranges, hosts } = parseAllow(policy.allow);
    this.ranges = ranges;
    this.hosts = hosts;
    this.agent = new Agent({
      connect: { lookup: (hostname, options, cb) => this.lookup(hostname, options, cb) },
      headersTimeout: 300_000,
      bodyTimeout: 300_000,
    });
  }

  /** Whether an address may be reached (public unicast, or allowed by the operator). */
  addressAllowed(ip: string): boolean {
    if (!ipaddr.isValid(ip)) return false;
    const a = ipaddr.parse(ip);
    const v4 = a.kind() === 'ipv6' ? embeddedIPv4(a as ipaddr.IPv6) : null;
    for (const candidate of v4 ? [a, v4] : [a]) {
      for (const [net, bits] of this.ranges) if (net.kind() === candidate.kind() && candidate.match([net, bits] as never)) return true;
    }
    return isPublic(a);
  }

  private lookup(
    hostname: string,
    options: LookupOptions,
    cb: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) {
    const allowedByName = this.hosts.has(hostname.toLowerCase());
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return cb(err, '');
      const list = addresses;
      const bad = list.find((a) => !allowedByName && !this.addressAllowed(a.address));
      if (bad || list.length === 0) {
        const e = new OutboundRefused(
          `Refused: ${hostname} resolves to ${bad?.address ?? 'nothing'}, a private or reserved address. An operator can allow it with INFINITY_HTTP_ALLOW.`,
          'address',
        ) as unknown as NodeJS.ErrnoException;
        return cb(e, '');
      }
      if (options.all) return cb(null, list);
      return cb(null, list[0]!.address, list[0]!.family);
    });
  }

  /** Checks a URL before connecting: scheme, and IP literals (a host name is checked at lookup). */
  checkUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new OutboundRefused(`"${raw.slice(0, 200)}" is not a valid URL.`, 'url');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundRefused(`Only http and https URLs are allowed, not ${url.protocol}`, 'scheme');
    if (url.username || url.password) throw new OutboundRefused('Credentials in the URL are not allowed; use headers or a vault secret.', 'url');
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (ipaddr.isValid(host) && !this.hosts.has(host) && !this.addressAllowed(host)) {
      throw new OutboundRefused(`Refused: ${host} is a private or reserved address. An operator can allow it with INFINITY_HTTP_ALLOW.`, 'address');
    }
    return url;
  }

  /**
   * Checks a target before it is saved (an outbound webhook): the URL as checkUrl does, and the
   * addresses its host resolves to now. Sends are checked again at connect time (DNS rebinding).
   * A name that does not resolve is not refused here: it cannot be reached either.
   */
  async checkTarget(raw: string): Promise<URL> {
    const url = this.checkUrl(raw);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (ipaddr.isValid(host) || this.hosts.has(host.toLowerCase())) return url;
    const addresses = await dns.promises.lookup(host, { all: true }).catch(() => []);
    const bad = addresses.find((a) => !this.addressAllowed(a.address));
    if (bad)
      throw new OutboundRefused(
        `Refused: ${host} resolves to ${bad.address}, a private or reserved address. An operator can allow it with INFINITY_HTTP_ALLOW.`,
        'address',
      );
    return url;
  }

  async request(req: OutboundRequest): Promise<OutboundResponse> {
    const maxBytes = req.maxBytes ?? 10 * 1024 * 1024;
    const timeout = AbortSignal.timeout(req.timeoutMs ?? 30_000);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    let url = this.checkUrl(req.url);
    let method = req.method.toUpperCase();
    let body = req.body;
    for (let hop = 0; ; hop++) {
      const res = await undiciRequest(url, {
        method: method as 'GET',
        headers: req.headers,
        body: body ?? null,
        dispatcher: this.agent,
        signal,
        maxRedirections: 0,
      } as never).catch((err: unknown) => {
        const cause = (err as { cause?: unknown }).cause;
        if (cause instanceof OutboundRefused) throw cause;
        if (err instanceof OutboundRefused) throw err;
        throw err;
      });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const location = headers.location;
      if (res.statusCode >= 300 && res.statusCode < 400 && location) {
        await res.body.dump();
        if (hop >= (req.maxRedirects ?? 5)) throw new OutboundRefused(`More than ${req.maxRedirects ?? 5} redirects.`, 'redirects');
        url = this.checkUrl(new URL(location, url).toString());
        req.onRedirect?.(url);
        if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        continue;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBytes) {
          res.body.destroy();
          if (req.overflow !== 'truncate') throw new OutboundRefused(`The response is larger than ${maxBytes} bytes.`, 'too_large');
          chunks.push(chunk.subarray(0, chunk.length - (size - maxBytes)));
          return { status: res.statusCode, headers, body: new Uint8Array(Buffer.concat(chunks)), url: url.toString(), truncated: true };
        }
        chunks.push(chunk);
      }
      return { status: res.statusCode, headers, body: new Uint8Array(Buffer.concat(chunks)), url: url.toString() };
    }
  }

  /**
   * A fetch() through the same guard, for SDKs that take one (the AI providers): the URL is
   * checked, the connection goes through the checking lookup, and redirects are refused (an API
   * endpoint does not redirect; following one would need a check per hop).
   */
  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = this.checkUrl(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    try {
      // Node's RequestInit and undici's describe the same object with two copies of the types.
      const options = { ...init, dispatcher: this.agent, redirect: 'error' } as unknown as Parameters<typeof undiciFetch>[1];
      return await undiciFetch(url, options);
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof OutboundRefused) throw cause;
      throw err;
    }
  };

  async close(): Promise<void> {
    await this.agent.close();
  }
}
