import type { EventActor } from '@infinity/contracts';
import type { Role } from '@infinity/contracts';

/**
 * Who is asking. Every service call takes one ("accountability"): services authorize and scope
 * by it, repos never see it.
 */
export interface UserActor {
  kind: 'user';
  userId: string;
  /** The organization this request acts in; null only on routes that need no organization. */
  orgId: string | null;
  role: Role | null;
  sessionId: string;
}

export interface ApiKeyActor {
  kind: 'apiKey';
  apiKeyId: string;
  orgId: string;
  /** The key's effective role: for a personal key, never above its creator's current role. */
  role: Role;
  /** The person a personal key acts for (its creator); null for a service-account key. */
  userId: string | null;
  /** personal: acts for its creator; service: the organization's own key (absent = personal). */
  keyKind?: 'personal' | 'service';
  /** Requests a minute this key may make; null/absent = the instance default. */
  rateLimit?: number | null;
}

/**
 * A flow execution acting in its organization (data nodes, actions, secrets). It holds the
 * editor role: it may read and write data, never manage members, keys or billing.
 */
export interface FlowActor {
  kind: 'flow';
  flowId: string;
  executionId: string;
  orgId: string;
  role: Role;
}

/**
 * Background work of the server inside one organization (the embedding worker calling the
 * model's provider with the organization's secret). Holds the editor role.
 */
export interface ServiceActor {
  kind: 'service';
  service: string;
  orgId: string;
  role: Role;
}

/** The CLI and background work acting for the instance. */
export interface SystemActor {
  kind: 'system';
  orgId: null;
  role: null;
}

export type Actor = UserActor | ApiKeyActor | FlowActor | ServiceActor | SystemActor;

/** An actor that is inside an organization with a role. */
export type OrgActor = (UserActor & { orgId: string; role: Role }) | ApiKeyActor | FlowActor | ServiceActor;

export function isOrgActor(a: Actor): a is OrgActor {
  return a.kind !== 'system' && a.orgId !== null && a.role !== null;
}

export const SYSTEM_ACTOR: SystemActor = { kind: 'system', orgId: null, role: null };

/** For logs and audit: kind and id, never a credential. */
export function actorLabel(a: Actor): { type: string; id: string | null } {
  switch (a.kind) {
    case 'user':
      return { type: 'user', id: a.userId };
    case 'apiKey':
      return { type: 'api_key', id: a.apiKeyId };
    case 'flow':
      return { type: 'flow', id: a.flowId };
    case 'service':
      return { type: 'service', id: a.service };
    case 'system':
      return { type: 'system', id: null };
    default: {
      const never: never = a;
      return never;
    }
  }
}

/** The person behind an actor (a key's creator), or null (flows, deleted users). */
export function actorUserId(a: Actor): string | null {
  return a.kind === 'user' || a.kind === 'apiKey' ? a.userId : null;
}

/** "user:<id>", "api_key:<id>" or "system:": how records and runs store who did something. */
export function actorRef(a: Actor): string {
  const l = actorLabel(a);
  return `${l.type}:${l.id ?? ''}`;
}

/** Who caused an event, as events name it (ids only, never a secret). */
export function eventActor(actor: Actor): EventActor {
  switch (actor.kind) {
    case 'user':
      return { type: 'user', id: actor.userId };
    case 'apiKey':
      return { type: 'apiKey', id: actor.apiKeyId };
    case 'flow':
      return { type: 'flow', id: actor.flowId };
    case 'service':
      return { type: 'service', id: actor.service };
    case 'system':
      return { type: 'system', id: null };
  }
}
