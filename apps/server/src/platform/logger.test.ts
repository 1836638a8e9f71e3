import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { createLogger } from './logger.js';

it('redacts credentials that reach a log line by mistake', () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }) });
  logger.info(
    {
      password: 'p4ss',
      value: 'sk-123',
      headers: { authorization: 'Bearer abc', 'x-api-key': 'inf_x' },
      body: { password: 'p', token: 't' },
      token: 'tok',
      ok: 'visible',
    },
    'oops',
  );
  const text = lines.join('');
  for (const secret of ['p4ss', 'sk-123', 'Bearer abc', 'inf_x', '"p"', '"t"', 'tok"']) expect(text).not.toContain(secret);
  expect(text).toContain('visible');
  expect(JSON.parse(text)).toMatchObject({ level: 'info', service: 'infinity', msg: 'oops' });
});
