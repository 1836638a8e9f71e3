import type { FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { type ApiKeyActor, type Authenticator, type UserActor, accessErrors, isOrgActor } from '../access/index.js';
import { type Exec, userName } from './realtime.repo.js';

/** A credential as a realtime connection keeps it (to authenticate again): a token or key, and X-Org-Id. */
export interface Credential {
  value: string;
  orgId?: string | undefined;
}

export type ConnectionActor = (UserActor & { orgId: string; role: NonNullable<UserActor['role']> }) | ApiKeyActor;

/** Who a connection is: its actor now, its credential, when that expires, and how presence names it. */
export interface Principal {
  actor: ConnectionActor;
  credential: Credential;
  /** Epoch ms when an access token expires; null for API keys (a revocation closes them instead). */
  expiresAt: number | null;
  /** The person (or service key) as presence shows it. */
  who: { id: string; name: string };
}

/**
 * Authenticates a credential with identity's one authenticator (and its principal cache), as if
 * it came in request headers: the WebSocket `auth` message, an SSE ticket, and the checks again
 * after a member changed or events were missed all go through it.
 */
export async function authenticateCredential(authenticate: Authenticator, db: Exec, credential: Credential): Promise<Principal> {
  const request = {
    headers: { authorization: `Bearer ${credential.value}`, ...(credential.orgId ? { 'x-org-id': credential.orgId } : {}) },
  } as unknown as FastifyRequest;
  const actor = await authenticate(request);
  if (!actor || !isOrgActor(actor) || (actor.kind !== 'user' && actor.kind !== 'apiKey')) throw accessErrors.AUTH_NO_ORGANIZATION();
  if (actor.kind === 'apiKey') {
    const name = request.apiKeyInfo?.name ?? 'API key';
    return { actor, credential, expiresAt: null, who: { id: actor.userId ?? actor.apiKeyId, name } };
  }
  const exp = decodeJwt(credential.value).exp;
  const name = (await userName(db, actor.userId)) ?? 'Someone';
  return { actor: actor as ConnectionActor, credential, expiresAt: typeof exp === 'number' ? exp * 1000 : null, who: { id: actor.userId, name } };
}
