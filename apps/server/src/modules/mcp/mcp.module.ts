import type { AppModule } from '../../platform/module.js';
import { mcpRoutes } from './mcp.routes.js';
import type { McpContext } from './mcp.server.js';

/** The MCP server at POST /api/v1/mcp: no tables and no running parts, only a route over the other modules' services. */
export function mcpModule(ctx: McpContext): AppModule {
  return { name: 'mcp', routes: [mcpRoutes(ctx)], services: [] };
}
