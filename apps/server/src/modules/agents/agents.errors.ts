import { defineErrors } from '../../platform/errors.js';

export const agentErrors = defineErrors({
  AGENT_NOT_FOUND: { status: 404, description: 'No agent with this id (or published slug) in this organization.' },
  AGENT_INVALID: {
    status: 422,
    description: 'The agent names a secret, flow, action or model that does not exist here, or a secret of another provider; details lists each problem.',
  },
  AGENT_PAUSED: { status: 409, description: 'The agent is paused; activate it (PATCH {status: "active"}) to talk to it.' },
  AGENT_PUBLIC_OWNER_ONLY: { status: 403, description: 'Only owners may make an agent public.' },
  AGENT_SLUG_TAKEN: { status: 409, description: 'Another agent or flow uses this published slug.' },
  CONVERSATION_NOT_FOUND: { status: 404, description: 'No conversation with this id for this agent (or the conversation token does not match).' },
});
