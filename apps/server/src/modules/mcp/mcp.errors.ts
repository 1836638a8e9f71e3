import { defineErrors } from '../../platform/errors.js';

export const mcpErrors = defineErrors({
  MCP_METHOD_NOT_ALLOWED: {
    status: 405,
    description: 'The MCP endpoint is stateless: it answers POST only (no server-sent event stream on GET, no session to DELETE).',
  },
});
