/** The ceiling: a bare Fastify process answering the same JSON as GET /api/v1/me, no identity, no logging. */
import Fastify from 'fastify';

const port = Number(process.argv[2]);
const body = JSON.parse(process.argv[3] ?? '{}') as unknown;
const app = Fastify();
app.get('/me', async () => body);
await app.listen({ port, host: '127.0.0.1' });
