import { z } from 'zod';
import { vaultErrors } from './vault.errors.js';

/**
 * Where a secret may be sent. Each secret carries `allowedHosts`, set by admins: host names
 * ("api.example.com"), wildcards for subdomains ("*.example.com": a.example.com and
 * a.b.example.com, not example.com itself) or IP literals. A request that carries a secret to any
 * other host is refused before it is sent, and so is a redirect to one (secret-use.ts).
 */

/** The providers' own API hosts: the default for a provider secret (plus its base URL's host). */
export const PROVIDER_HOSTS: Readonly<Record<string, readonly string[]>> = {
  openai: ['api.openai.com'],
  anthropic: ['api.anthropic.com'],
  google: ['generativelanguage.googleapis.com'],
  stripe: ['api.stripe.com'],
  github: ['api.github.com'],
  slack: ['slack.com', 'hooks.slack.com'],
  'openai-compatible': [],
  smtp: [],
};

/** Providers whose secrets must name their hosts at creation: nothing says where they go. */
export const HOSTS_REQUIRED = new Set(['generic']);

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST_RE = new RegExp(`^(?:\\*\\.)?(?:${LABEL}\\.)*${LABEL}$`);
const IPV6_RE = /^[0-9a-f:.]+$/;

/** "API.Example.com." → "api.example.com"; "[::1]" → "::1". */
export function normalizeHost(host: string): string {
  const h = host.trim().toLowerCase().replace(/\.$/, '');
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

export const allowedHostsSchema = z
  .array(
    z
      .string()
      .max(253)
      .transform(normalizeHost)
      .refine(
        (h) => HOST_RE.test(h) || (h.includes(':') && IPV6_RE.test(h)),
        'a host name (api.example.com), a wildcard for its subdomains (*.example.com) or an IP address; no scheme, port or path',
      ),
  )
  .max(50)
  .transform((hosts) => [...new Set(hosts)])
  .describe('hosts this secret may be sent to: names, *.example.com for subdomains, or IP addresses');

export function baseUrlHost(baseUrl: string | null | undefined): string | undefined {
  if (!baseUrl) return undefined;
  try {
    return normalizeHost(new URL(baseUrl).hostname);
  } catch {
    return undefined;
  }
}

/** The hosts a new secret gets when the admin names none: its provider's API hosts and its base URL's host. */
export function defaultAllowedHosts(provider: string, baseUrl: string | null | undefined): string[] {
  const own = baseUrlHost(baseUrl);
  return [...new Set([...(PROVIDER_HOSTS[provider] ?? []), ...(own ? [own] : [])])];
}

export function hostAllowed(host: string, patterns: readonly string[]): boolean {
  const h = normalizeHost(host);
  return patterns.some((p) => (p.startsWith('*.') ? h.endsWith(p.slice(1)) && h.length > p.length - 1 : h === p));
}

export interface HostBound {
  id: string;
  name: string;
  allowedHosts: readonly string[];
}

/** Throws VAULT_SECRET_HOST_NOT_ALLOWED (naming the secret and the host, never the value) unless the URL's host is allowed. */
export function assertHostAllowed(secret: HostBound, url: string | URL): void {
  let host: string;
  try {
    host = normalizeHost((typeof url === 'string' ? new URL(url) : url).hostname);
  } catch {
    host = '(invalid URL)';
  }
  if (hostAllowed(host, secret.allowedHosts)) return;
  const allowed = secret.allowedHosts.length ? secret.allowedHosts.join(', ') : 'none';
  throw vaultErrors.VAULT_SECRET_HOST_NOT_ALLOWED(
    `The secret "${secret.name}" may not be sent to ${host} (allowed hosts: ${allowed}). An admin can change its allowed hosts in the vault.`,
    {
      secretId: secret.id,
      host,
      allowedHosts: [...secret.allowedHosts],
    },
  );
}
