import { listMetaSchema } from '@infinity/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type App, emptyBody, idParams, ifMatchOf, listMeta, pageQuery, toAppError, withEtag } from '../../platform/http/index.js';
import { orgActorOf } from '../access/index.js';
import { agentErrors } from './agents.errors.js';
import * as repo from './agents.repo.js';
import { agentCreateSchema, agentPatchSchema, publishAgentSchema } from './agents.schemas.js';
import * as agents from './agents.service.js';

const agentSchema = z
  .record(z.string(), z.unknown())
  .describe('id, name, provider, model, secretId, system, personality, voice, memory, memoryTokens, tools, maxSteps, temperature, status, slug, …');
const messageSchema = z.object({ id: z.string(), role: z.string(), content: z.string(), tool: z.unknown(), usage: z.unknown(), createdAt: z.string() });
const replySchema = z.object({
  conversationId: z.string(),
  message: z.object({ id: z.string(), role: z.string(), content: z.string(), createdAt: z.string() }),
  toolCalls: z.array(z.unknown()),
  usage: z.object({ inputTokens: z.number(), outputTokens: z.number() }),
});
const convParams = z.strictObject({ id: z.uuid(), cid: z.uuid() });
const messageBody = z.strictObject({ content: z.string().trim().min(1).max(100_000) });

/**
 * Answers a message as JSON, or — when the client asks for `text/event-stream` — as server-sent
 * events: `delta` {text}, `tool_call` {id, name, input}, `tool_result` {id, name, output, error?},
 * then `message` (the stored reply with usage), or `error` (the error format) and the end.
 */
async function answer(request: FastifyRequest, reply: FastifyReply, send: (events: agents.MessageEvents, signal: AbortSignal) => Promise<agents.Reply>) {
  const abort = new AbortController();
  request.raw.on('close', () => {
    if (!reply.raw.writableEnded) abort.abort();
  });
  if (!/text\/event-stream/.test(request.headers.accept ?? '')) return { data: await send({}, abort.signal) };
  reply.hijack();
  reply.raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-request-id': request.id,
  });
  const event = (name: string, data: unknown) => reply.raw.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  try {
    const r = await send(
      {
        onDelta: (text) => event('delta', { text }),
        onToolCall: (c) => event('tool_call', c),
        onToolResult: (t) => event('tool_result', t),
      },
      abort.signal,
    );
    event('message', r);
  } catch (err) {
    const e = toAppError(err);
    if (e.status >= 500) request.log.error({ err }, 'agent reply failed');
    event('error', { error: { code: e.code, message: e.message, details: e.details ?? null, requestId: request.id } });
  }
  reply.raw.end();
  return reply;
}

export function agentRoutes(ctx: agents.AgentsContext) {
  return async (app: App) => {
    app.get('/api/v1/agents', {
      config: { access: { permission: 'agents:read' } },
      schema: {
        operationId: 'listAgents',
        tags: ['agents'],
        summary: 'Agents of this organization',
        querystring: pageQuery,
        response: { 200: z.object({ data: z.array(agentSchema), meta: listMetaSchema }) },
      },
      handler: async (request) => {
        const orgId = orgActorOf(request).orgId;
        const [rows, total] = await Promise.all([repo.listAgents(ctx.db, orgId, request.query.limit, request.query.offset), repo.countAgents(ctx.db, orgId)]);
        return { data: rows.map(agents.toAgent), meta: listMeta(total, request.query.limit, request.query.offset) };
      },
    });
    app.post('/api/v1/agents', {
      config: { access: { permission: 'agents:write' } },
      schema: {
        operationId: 'createAgent',
        tags: ['agents'],
        summary: 'Create an agent (active unless status says paused; activation is audited as AGENT_DEPLOY)',
        body: agentCreateSchema,
        response: { 201: z.object({ data: agentSchema }) },
      },
      handler: async (request, reply) => {
        const data = await agents.createAgent(ctx, orgActorOf(request), request.body, request.ip);
        return withEtag(reply, data.version).status(201).send({ data });
      },
    });
    app.get('/api/v1/agents/:id', {
      config: { access: { permission: 'agents:read' } },
      schema: {
        operationId: 'getAgent',
        tags: ['agents'],
        summary: 'One agent; its ETag is its version (send it back as If-Match when changing it)',
        params: idParams,
        response: { 200: z.object({ data: agentSchema }) },
      },
      handler: async (request, reply) => {
        const data = agents.toAgent(await agents.requireAgent(ctx, orgActorOf(request), request.params.id));
        return withEtag(reply, data.version).send({ data });
      },
    });
    app.patch('/api/v1/agents/:id', {
      config: { access: { permission: 'agents:write' } },
      schema: {
        operationId: 'updateAgent',
        tags: ['agents'],
        summary: 'Change an agent; status active/paused deploys or pauses it; a stale If-Match answers 412',
        params: idParams,
        body: agentPatchSchema,
        response: { 200: z.object({ data: agentSchema }) },
      },
      handler: async (request, reply) => {
        const data = await agents.updateAgent(ctx, orgActorOf(request), request.params.id, request.body, request.ip, ifMatchOf(request));
        return withEtag(reply, data.version).send({ data });
      },
    });
    app.delete('/api/v1/agents/:id', {
      config: { access: { permission: 'agents:write' } },
      schema: { operationId: 'deleteAgent', tags: ['agents'], summary: 'Delete an agent; a stale If-Match answers 412', params: idParams },
      handler: async (request, reply) => {
        await agents.deleteAgent(ctx, orgActorOf(request), request.params.id, request.ip, ifMatchOf(request));
        return reply.status(204).send();
      },
    });
    app.get('/api/v1/agents/:id/status', {
      config: { access: { permission: 'agents:read' } },
      schema: { operationId: 'getAgentStatus', tags: ['agents'], summary: 'Status, conversations, messages and tokens used', params: idParams },
      handler: async (request) => ({ data: await agents.agentStatus(ctx, orgActorOf(request), request.params.id) }),
    });
    app.post('/api/v1/agents/:id/publish', {
      config: { access: { permission: 'agents:write' } },
      schema: {
        operationId: 'publishAgent',
        tags: ['agents'],
        summary: 'Publish at /api/v1/chat/{slug} for consumers without an account (owners only)',
        params: idParams,
        body: publishAgentSchema,
        response: { 200: z.object({ data: agentSchema }) },
      },
      handler: async (request) => ({ data: await agents.publishAgent(ctx, orgActorOf(request), request.params.id, request.body.slug, request.ip) }),
    });
    app.post('/api/v1/agents/:id/unpublish', {
      config: { access: { permission: 'agents:write' } },
      schema: {
        operationId: 'unpublishAgent',
        summary: 'Stop publishing an agent at /api/v1/chat/{slug}',
        tags: ['agents'],
        params: idParams,
        body: emptyBody,
        response: { 200: z.object({ data: agentSchema }) },
      },
      handler: async (request) => ({ data: await agents.publishAgent(ctx, orgActorOf(request), request.params.id, null, request.ip) }),
    });
    app.post('/api/v1/agents/:id/conversations', {
      config: { access: { permission: 'agents:chat' } },
      schema: {
        operationId: 'startConversation',
        tags: ['agents'],
        summary: 'Start a conversation',
        params: idParams,
        body: z.strictObject({ title: z.string().max(200).optional() }).nullish(),
      },
      handler: async (request, reply) => {
        const actor = orgActorOf(request);
        const agent = await agents.requireAgent(ctx, actor, request.params.id);
        return reply.status(201).send({ data: await agents.startConversation(ctx, agent, agents.participantOf(actor), request.body?.title) });
      },
    });
    app.get('/api/v1/agents/:id/conversations/:cid/messages', {
      config: { access: { permission: 'agents:read' } },
      schema: {
        operationId: 'listConversationMessages',
        tags: ['agents'],
        summary: 'Messages of a conversation, oldest first (tool calls included)',
        params: convParams,
        querystring: pageQuery,
        response: { 200: z.object({ data: z.array(messageSchema), meta: listMetaSchema }) },
      },
      handler: async (request) => {
        await agents.requireAgent(ctx, orgActorOf(request), request.params.id);
        const list = await agents.listMessages(ctx, request.params.id, request.params.cid, request.query.limit, request.query.offset);
        return { data: list, meta: listMeta(await repo.countMessages(ctx.db, request.params.cid), request.query.limit, request.query.offset) };
      },
    });
    app.post('/api/v1/agents/:id/conversations/:cid/messages', {
      config: { access: { permission: 'agents:chat' } },
      schema: {
        operationId: 'sendConversationMessage',
        tags: ['agents'],
        summary: 'Send a message and get the reply (Accept: text/event-stream streams it)',
        params: convParams,
        body: messageBody,
        response: { 200: z.object({ data: replySchema }) },
      },
      handler: async (request, reply) => {
        const caller = orgActorOf(request);
        const agent = await agents.requireAgent(ctx, caller, request.params.id);
        return answer(request, reply, (events, signal) =>
          agents.sendMessage(ctx, agent, { conversationId: request.params.cid, content: request.body.content, caller }, events, signal),
        );
      },
    });
  };
}

/** Published agents: consumers without an account, one conversation token each, rate limited per address. */
export function publicChatRoutes(ctx: agents.AgentsContext) {
  return async (app: App) => {
    const config = { access: { public: true as const } };
    const published = async (slug: string) => {
      const a = await repo.findAgentBySlug(ctx.db, slug);
      if (!a) throw agentErrors.AGENT_NOT_FOUND();
      return a;
    };
    const withToken = async (request: FastifyRequest, slug: string, cid: string) => {
      const agent = await published(slug);
      const token = request.headers['x-conversation-token'];
      if (typeof token !== 'string' || !agents.conversationTokenValid(ctx.tokenSecret, cid, token)) throw agentErrors.CONVERSATION_NOT_FOUND();
      return agent;
    };
    const slugParams = z.strictObject({ slug: z.string().min(1).max(80) });
    const params = z.strictObject({ slug: z.string().min(1).max(80), cid: z.uuid() });
    app.post('/api/v1/chat/:slug/conversations', {
      config,
      schema: {
        operationId: 'startPublicChat',
        tags: ['agents'],
        summary: 'Start a conversation with a published agent; the token authorizes its messages (X-Conversation-Token)',
        params: slugParams,
        body: z.strictObject({}).nullish(),
      },
      handler: async (request, reply) => {
        const agent = await published(request.params.slug);
        if (agent.status !== 'active') throw agentErrors.AGENT_PAUSED();
        const c = await agents.startConversation(ctx, agent, `consumer:${crypto.randomUUID()}`);
        return reply
          .status(201)
          .send({ data: { id: c.id, agent: { name: agent.name }, token: agents.conversationToken(ctx.tokenSecret, c.id), createdAt: c.createdAt } });
      },
    });
    app.get('/api/v1/chat/:slug/conversations/:cid/messages', {
      config,
      schema: {
        operationId: 'listPublicChatMessages',
        summary: 'Messages of a conversation with a published agent, oldest first (X-Conversation-Token)',
        tags: ['agents'],
        params,
        querystring: pageQuery,
      },
      handler: async (request) => {
        const agent = await withToken(request, request.params.slug, request.params.cid);
        const list = await agents.listMessages(ctx, agent.id, request.params.cid, request.query.limit, request.query.offset);
        // Consumers see the conversation, not the tool plumbing.
        // meta.total counts every message (the rows limit and offset page through), tool ones included.
        return {
          data: list.filter((m) => m.role !== 'tool').map(({ tool: _t, ...m }) => m),
          meta: listMeta(await repo.countMessages(ctx.db, request.params.cid), request.query.limit, request.query.offset),
        };
      },
    });
    app.post('/api/v1/chat/:slug/conversations/:cid/messages', {
      config,
      schema: {
        operationId: 'sendPublicChatMessage',
        tags: ['agents'],
        summary: 'Send a message to a published agent (Accept: text/event-stream streams the reply)',
        params,
        body: messageBody,
      },
      handler: async (request, reply) => {
        const agent = await withToken(request, request.params.slug, request.params.cid);
        // A consumer: the published agent acts with its own role (see toolRole).
        return answer(request, reply, (events, signal) =>
          agents.sendMessage(ctx, agent, { conversationId: request.params.cid, content: request.body.content, caller: null }, events, signal),
        );
      },
    });
  };
}
