import { z } from 'zod';

/** Organization roles, strongest first. `consumer` has no account and never appears on a membership. */
export const ROLES = ['owner', 'admin', 'editor', 'viewer'] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

const RANK: Record<Role, number> = { owner: 4, admin: 3, editor: 2, viewer: 1 };

/** True when `role` carries at least the rights of `other`. */
export function roleAtLeast(role: Role, other: Role): boolean {
  return RANK[role] >= RANK[other];
}
