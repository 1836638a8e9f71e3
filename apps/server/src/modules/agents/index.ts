export { agentErrors } from './agents.errors.js';
export { agentsModule, agentsContext, agentNode } from './agents.module.js';
