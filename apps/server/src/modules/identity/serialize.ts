import type { Role } from '@infinity/contracts';
import { z } from 'zod';

export const userSchema = z.object({ id: z.string(), name: z.string(), email: z.string(), createdAt: z.string() });
export const orgSchema = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  personal: z.boolean(),
  plan: z.string(),
  schema: z.string().describe('The PostgreSQL schema that holds this organization’s data models'),
  role: z.enum(['owner', 'admin', 'editor', 'viewer']).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type UserDto = z.infer<typeof userSchema>;
export type OrgDto = z.infer<typeof orgSchema>;

export function toUser(u: { id: string; name: string; email: string; created_at: Date }): UserDto {
  return { id: u.id, name: u.name, email: u.email, createdAt: u.created_at.toISOString() };
}

export function toOrg(
  o: { id: string; name: string; slug: string; personal: boolean; plan: string; schema_name: string; created_at: Date; updated_at: Date },
  role: Role | null,
): OrgDto {
  return {
    id: o.id,
    name: o.name,
    slug: o.slug,
    personal: o.personal,
    plan: o.plan,
    schema: o.schema_name,
    role,
    createdAt: o.created_at.toISOString(),
    updatedAt: o.updated_at.toISOString(),
  };
}
