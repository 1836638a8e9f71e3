/**
 * The identity baseline: Infinity's own HTTP platform (request ids, security headers, the per-request
 * log line, the access guard, Zod serialization) serving the same JSON as GET /api/v1/me on a public
 * route. The only difference from /me is identity, so the gap between the two is identity's cost.
 * argv: port json
 */
import { z } from 'zod';
import { createHttpServer } from '../apps/server/dist/platform/http/index.js';
import { createLogger } from '../apps/server/dist/platform/logger.js';
import { registerAccessGuard } from '../apps/server/dist/modules/access/index.js';

const port = Number(process.argv[2]);
const body = JSON.parse(process.argv[3] ?? '{}') as { data: Record<string, unknown> };
// The same log line work as the real server, written to stdout like it.
const app = await createHttpServer({
  logger: createLogger({ level: 'info' }),
  bodyLimit: 1 << 20,
  corsOrigins: [],
  trustProxy: false,
  publicUrl: `http://127.0.0.1:${port}`,
  version: 'bench',
});
registerAccessGuard(app, async () => null);
app.get(
  '/me',
  { config: { access: { public: true } }, schema: { response: { 200: z.object({ data: z.record(z.string(), z.unknown()) }) } } },
  async () => body,
);
await app.ready();
await app.listen({ port, host: '127.0.0.1' });
