export { agentRoutes, publicChatRoutes } from './agents.routes.js';
export { type AgentsContext, type AgentToolDeps, requireAgent, sendMessage, startConversation, participantOf } from './agents.service.js';
export type { AgentTables } from './agents.repo.js';
export { agentErrors } from './agents.errors.js';
