import { type Role, roleAtLeast } from '@infinity/contracts';
import { commonErrors } from '../../platform/errors.js';
import type { OrgActor } from './actor.js';

/**
 * The one permission table: each permission and the weakest role that holds it (SPEC §2).
 * Routes declare a permission; nothing else decides who may do what.
 */
export const PERMISSIONS = {
  'org:read': 'viewer',
  'org:update': 'admin',
  'org:delete': 'owner',
  'members:read': 'viewer',
  'members:manage': 'admin',
  'invitations:manage': 'admin',
  'apiKeys:manage': 'admin',
  'secrets:read': 'editor',
  'secrets:manage': 'admin',
  'audit:read': 'admin',
  'self:read': 'viewer',
  'models:read': 'viewer',
  'models:write': 'editor',
  'records:read': 'viewer',
  'records:write': 'editor',
  'actions:read': 'viewer',
  'actions:write': 'editor',
  'flows:read': 'viewer',
  'flows:write': 'editor',
  'flows:run': 'editor',
  'flows:publish': 'editor',
  'executions:read': 'viewer',
  'executions:manage': 'editor',
  'usage:read': 'viewer',
  'notifications:read': 'viewer',
  'billing:manage': 'owner',
  'logs:read': 'admin',
  'stats:read': 'viewer',
  'agents:read': 'viewer',
  'agents:write': 'editor',
  'agents:chat': 'viewer',
  'webhooks:read': 'admin',
  'webhooks:manage': 'admin',
} as const satisfies Record<string, Role>;

export type Permission = keyof typeof PERMISSIONS;

export function can(role: Role, permission: Permission): boolean {
  return roleAtLeast(role, PERMISSIONS[permission]);
}

export function assertCan(actor: OrgActor, permission: Permission): void {
  if (!can(actor.role, permission)) {
    throw commonErrors.FORBIDDEN(`Your role (${actor.role}) cannot do this; it needs ${PERMISSIONS[permission]} or higher.`, {
      permission,
      role: actor.role,
    });
  }
}
