import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { Inbox } from './events.js';

/** One request a test receiver got: its headers, raw body and parsed JSON. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: { id: string; type: string; timestamp: string; data: Record<string, unknown> };
}

/**
 * A real HTTP server on loopback for webhook tests: records what it receives and answers with
 * the status `statusFor(path)` gives (200 by default). Signatures are checked by the test with
 * the reference `standardwebhooks` package (`verify`), never with our own code.
 */
export async function startReceiver(statusFor: (path: string) => number = () => 200): Promise<{
  url: (path?: string) => string;
  inbox: Inbox<Received>;
  close: () => Promise<void>;
}> {
  const inbox = new Inbox<Received>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      let json: Received['json'];
      try {
        json = JSON.parse(body) as Received['json'];
      } catch {
        json = { id: '', type: '', timestamp: '', data: {} };
      }
      inbox.push({ path, headers: req.headers, body, json });
      const status = statusFor(path);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(`status ${status} from the test receiver`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    inbox,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Verifies a delivery with the reference implementation; throws when the signature is wrong. */
export function verifyDelivery(secret: string, r: Received): unknown {
  return new Webhook(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  });
}
