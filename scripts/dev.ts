/**
 * `npm run dev`: the server from source, restarted on every change (tsx watch), the workspace
 * packages rebuilt on change (tsc -b --watch: the server then restarts on their new output), and
 * the UI's vite dev server (hot reload) proxying /api to the server. Arguments go to
 * `infinity start` (`npm run dev -- --port 8081`: the UI's proxy follows through INFINITY_PORT).
 * Ctrl-C stops all three.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';

const root = path.resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const portArg = args.findIndex((a) => a === '--port' || a.startsWith('--port='));
const port = portArg < 0 ? (process.env.INFINITY_PORT ?? '8080') : (args[portArg]!.split('=')[1] ?? args[portArg + 1] ?? '8080');
const env = { ...process.env, INFINITY_PORT: port, FORCE_COLOR: process.env.FORCE_COLOR ?? '1' };

const children: ChildProcess[] = [];
let stopping = false;

function start(label: string, command: string, argv: string[], cwd = root): void {
  const child = spawn(command, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  for (const stream of [child.stdout, child.stderr]) readline.createInterface({ input: stream }).on('line', (line) => console.log(`[${label}] ${line}`));
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.log(`[${label}] exited (${signal ?? code}); stopping the others`);
    stop(code ?? 1);
  });
}

function stop(code: number): void {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  const exits = children.filter((c) => c.exitCode === null).map((c) => new Promise<void>((r) => c.once('exit', () => r())));
  void Promise.all(exits).then(() => process.exit(code));
}

process.once('SIGINT', () => stop(0));
process.once('SIGTERM', () => stop(0));

start('packages', process.execPath, [require.resolve('typescript/bin/tsc'), '-b', '--watch', '--preserveWatchOutput', 'packages/node-sdk/tsconfig.json']);
start('server', process.execPath, [
  path.join(root, 'node_modules/tsx/dist/cli.mjs'),
  'watch',
  '--clear-screen=false',
  'apps/server/src/cli.ts',
  'start',
  ...args,
]);
start('web', process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js')], path.join(root, 'apps/web'));
