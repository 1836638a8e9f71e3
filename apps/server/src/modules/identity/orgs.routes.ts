import { listMetaSchema, roleSchema } from '@infinity/contracts';
import { z } from 'zod';
import { type App, emptyBody, idParams, listMeta, pageOfAll, pageQuery, wholeListQuery } from '../../platform/http/index.js';
import { orgActorOf, type OrgActor, type UserActor } from '../access/index.js';
import type { IdentityContext } from './identity.context.js';
import * as invitations from './invitations.service.js';
import * as orgs from './orgs.service.js';
import { orgSchema } from './serialize.js';

const orgName = z.string().trim().min(1).max(100);
const memberSchema = z.object({ userId: z.string(), name: z.string(), email: z.string(), role: roleSchema, joinedAt: z.string() });
const invitationSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: roleSchema,
  invitedBy: z.string().nullable(),
  expiresAt: z.string(),
  createdAt: z.string(),
});
const userIdParams = z.strictObject({ userId: z.uuid() });

function callerOf(actor: unknown): UserActor | OrgActor {
  const a = actor as UserActor | OrgActor;
  if (a.kind === 'apiKey' || a.kind === 'user') return a;
  throw new Error('unexpected actor');
}

export function orgRoutes(ctx: IdentityContext) {
  return async (app: App) => {
    // Reachable without an active organization: a person removed from it still lists their others.
    app.get('/api/v1/orgs', {
      config: { access: { self: true } },
      schema: {
        operationId: 'listOrganizations',
        tags: ['organizations'],
        summary: 'Your organizations (an API key sees its own)',
        querystring: wholeListQuery,
        response: { 200: z.object({ data: z.array(orgSchema), meta: listMetaSchema }) },
      },
      handler: async (request) => pageOfAll(await orgs.listMyOrgs(ctx, callerOf(request.actor)), request.query),
    });
    // Creating an organization needs a person, not a key, and no active organization.
    app.post('/api/v1/orgs', {
      config: { access: { user: true } },
      schema: {
        operationId: 'createOrganization',
        tags: ['organizations'],
        summary: 'Create an organization; you become its owner',
        body: z.strictObject({ name: orgName }),
        response: { 201: z.object({ data: orgSchema }) },
      },
      handler: async (request, reply) => reply.status(201).send({ data: await orgs.createOrg(ctx, request.actor as UserActor, request.body.name, request.ip) }),
    });
    // NB: /orgs/{id} may name any organization of the caller, not only the active one, so the route
    // only requires a credential (an active organization is not needed); the service checks
    // org:read / org:update / org:delete against the caller's role in *that* organization (and
    // answers 404 for any other).
    app.get('/api/v1/orgs/:id', {
      config: { access: { self: true } },
      schema: {
        operationId: 'getOrganization',
        summary: 'One of your organizations',
        tags: ['organizations'],
        params: idParams,
        response: { 200: z.object({ data: orgSchema }) },
      },
      handler: async (request) => ({ data: await orgs.getOrg(ctx, callerOf(request.actor), request.params.id) }),
    });
    app.patch('/api/v1/orgs/:id', {
      config: { access: { self: true } },
      schema: {
        operationId: 'updateOrganization',
        tags: ['organizations'],
        summary: 'Rename (admins)',
        params: idParams,
        body: z.strictObject({ name: orgName }),
        response: { 200: z.object({ data: orgSchema }) },
      },
      handler: async (request) => ({ data: await orgs.updateOrg(ctx, callerOf(request.actor), request.params.id, request.body, request.ip) }),
    });
    app.delete('/api/v1/orgs/:id', {
      config: { access: { self: true } },
      schema: { operationId: 'deleteOrganization', tags: ['organizations'], summary: 'Delete with all its data (owners)', params: idParams },
      handler: async (request, reply) => {
        await orgs.deleteOrg(ctx, callerOf(request.actor), request.params.id, request.ip);
        return reply.status(204).send();
      },
    });

    app.get('/api/v1/members', {
      config: { access: { permission: 'members:read' } },
      schema: {
        operationId: 'listMembers',
        summary: 'Members of this organization and their roles',
        tags: ['members'],
        querystring: pageQuery,
        response: { 200: z.object({ data: z.array(memberSchema), meta: listMetaSchema }) },
      },
      handler: async (request) => {
        const { members, total } = await orgs.listMembers(ctx, orgActorOf(request), request.query.limit, request.query.offset);
        return { data: members, meta: listMeta(total, request.query.limit, request.query.offset) };
      },
    });
    app.patch('/api/v1/members/:userId', {
      config: { access: { permission: 'members:manage' } },
      schema: {
        operationId: 'updateMember',
        tags: ['members'],
        summary: 'Change a member’s role',
        params: userIdParams,
        body: z.strictObject({ role: roleSchema }),
        response: { 200: z.object({ data: z.object({ userId: z.string(), role: roleSchema }) }) },
      },
      handler: async (request) => ({ data: await orgs.changeMemberRole(ctx, orgActorOf(request), request.params.userId, request.body.role, request.ip) }),
    });
    app.delete('/api/v1/members/:userId', {
      config: { access: { permission: 'self:read' } },
      schema: { operationId: 'removeMember', tags: ['members'], summary: 'Remove a member (admins), or leave (yourself)', params: userIdParams },
      handler: async (request, reply) => {
        await orgs.removeMember(ctx, orgActorOf(request), request.params.userId, request.ip);
        return reply.status(204).send();
      },
    });

    app.get('/api/v1/invitations', {
      config: { access: { permission: 'invitations:manage' } },
      schema: {
        operationId: 'listInvitations',
        tags: ['members'],
        summary: 'Pending invitations',
        querystring: pageQuery,
        response: { 200: z.object({ data: z.array(invitationSchema), meta: listMetaSchema }) },
      },
      handler: async (request) => {
        const [list, total] = await Promise.all([
          invitations.listInvitations(ctx, orgActorOf(request), request.query.limit, request.query.offset),
          invitations.countInvitations(ctx, orgActorOf(request)),
        ]);
        return { data: list, meta: listMeta(total, request.query.limit, request.query.offset) };
      },
    });
    app.post('/api/v1/invitations', {
      config: { access: { permission: 'invitations:manage' } },
      schema: {
        operationId: 'createInvitation',
        tags: ['members'],
        summary: 'Invite by email; the token and link are returned once',
        body: z.strictObject({ email: z.email().max(254), role: roleSchema }),
        response: { 201: z.object({ data: invitationSchema.extend({ token: z.string(), url: z.string() }) }) },
      },
      handler: async (request, reply) =>
        reply.status(201).send({ data: await invitations.createInvitation(ctx, orgActorOf(request), request.body, request.ip) }),
    });
    app.delete('/api/v1/invitations/:id', {
      config: { access: { permission: 'invitations:manage' } },
      schema: { operationId: 'revokeInvitation', tags: ['members'], summary: 'Revoke a pending invitation', params: idParams },
      handler: async (request, reply) => {
        await invitations.revokeInvitation(ctx, orgActorOf(request), request.params.id, request.ip);
        return reply.status(204).send();
      },
    });
    app.post('/api/v1/invitations/:token/accept', {
      config: { access: { user: true } },
      schema: {
        operationId: 'acceptInvitation',
        tags: ['members'],
        summary: 'Accept an invitation sent to your email',
        params: z.strictObject({
          token: z
            .string()
            .min(10)
            .max(100)
            .regex(/^[A-Za-z0-9_-]+$/),
        }),
        body: emptyBody,
        response: { 200: z.object({ data: orgSchema }) },
      },
      handler: async (request) => ({ data: await invitations.acceptInvitation(ctx, request.actor as UserActor, request.params.token, request.ip) }),
    });
  };
}
