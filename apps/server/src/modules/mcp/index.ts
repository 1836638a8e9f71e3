export { mcpModule } from './mcp.module.js';
export { mcpErrors } from './mcp.errors.js';
export { MAX_RESULT_CHARS, type McpContext } from './mcp.server.js';
