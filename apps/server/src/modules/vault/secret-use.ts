import { Redactor } from '../../platform/redact.js';
import type { OrgActor } from '../access/index.js';
import { assertHostAllowed } from './vault.hosts.js';
import { type RevealedSecret, type VaultContext, revealSecret } from './vault.service.js';

export interface OutboundCall {
  url: string;
  headers?: Record<string, string> | undefined;
  body?: string | Uint8Array | undefined;
}

/**
 * The secrets one execution has used, and the two rules that follow from using them:
 *  - a request that carries one (in its URL, headers or body, in any spelling Redactor knows)
 *    goes only to a host the secret allows, and so does each redirect it follows;
 *  - everything the execution stores or returns is passed through `redact` (executor.ts), so a
 *    value echoed back by a server, or put in an error, is masked.
 * Built per execution (app.ts flowCapabilities); nothing outlives it.
 */
export interface SecretUse {
  reveal(secretId: string): Promise<RevealedSecret>;
  /** Throws VAULT_SECRET_HOST_NOT_ALLOWED when `call` carries a used secret and `target` (default: its URL) is not allowed for it. */
  checkOutbound(call: OutboundCall, target?: string | URL): void;
  redact<T>(value: T): T;
}

export function secretUse(ctx: VaultContext, actor: OrgActor, purpose: string): SecretUse {
  const used = new Map<string, { secret: RevealedSecret; spots: Redactor }>();
  const all = new Redactor();
  return {
    async reveal(secretId) {
      const secret = await revealSecret(ctx, actor, secretId, purpose);
      used.set(secret.id, { secret, spots: new Redactor([secret.value]) });
      all.add(secret.value);
      return secret;
    },
    checkOutbound(call, target = call.url) {
      if (used.size === 0) return;
      const body = call.body === undefined ? '' : typeof call.body === 'string' ? call.body : Buffer.from(call.body).toString('utf8');
      const texts = [call.url, body, ...Object.entries(call.headers ?? {}).flat()];
      // NB: a caller-set Host header names the server as much as the URL does (a shared front end
      // routes by it, and TLS takes its server name from it): it must be an allowed host too.
      const hostHeader = Object.entries(call.headers ?? {}).find(([k]) => k.toLowerCase() === 'host')?.[1];
      for (const { secret, spots } of used.values()) {
        if (!texts.some((t) => spots.found(t))) continue;
        assertHostAllowed(secret, target);
        if (hostHeader !== undefined) assertHostAllowed(secret, `http://${hostHeader.trim() || '(empty)'}`);
      }
    },
    redact: (value) => all.deep(value),
  };
}
