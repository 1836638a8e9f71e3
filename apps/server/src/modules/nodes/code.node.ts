import { NodeError, defineNode } from '@infinity/node-sdk';
import { z } from 'zod';
import type { JsSandbox } from '../../platform/sandbox/js-sandbox.js';

/**
 * User JavaScript over the input, in the QuickJS sandbox: the code is a function body that sees
 * `$input` and `console`, and returns the node's output (JSON). No host access, time and memory
 * limited; a failure is a clear node error and the server keeps serving.
 */
export function createCodeNode(sandbox: JsSandbox) {
  return defineNode({
    type: 'core.code',
    pure: true,
    version: 1,
    title: 'Code',
    description:
      'Runs JavaScript (a function body: `return { total: $input.items.length }`) in a sandbox with time and memory limits and no access to the server.',
    category: 'transform',
    params: z.strictObject({
      source: z.string().min(1).max(100_000),
      timeoutMs: z.number().int().min(10).max(30_000).default(1000),
      memoryMb: z.number().int().min(1).max(256).default(32),
    }),
    outputs: ['main'],
    execute: async ({ params, input, ctx }) => {
      const r = await sandbox.run({ source: params.source, input, timeoutMs: params.timeoutMs, memoryBytes: params.memoryMb * 1024 * 1024 });
      for (const line of r.logs) ctx.log('info', line);
      if (!r.ok) {
        const limit = /interrupted|out of memory|stack overflow|larger than/.test(r.error.message);
        // Retryable like any other node's failure: the node's `retries` setting decides (default 0).
        throw new NodeError(`${r.error.name}: ${r.error.message}`, { code: limit ? 'CODE_LIMIT' : 'CODE_FAILED', retryable: true });
      }
      return { main: r.value };
    },
  });
}
