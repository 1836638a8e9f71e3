#!/usr/bin/env node
// The `infinity` command (`npx infinity …` in a checkout). A committed file, so `npm ci` links it
// into node_modules/.bin before the build exists; it loads the built CLI (npm run build).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('infinity: the server is not built yet; run `npm run build` (npm ci does it) first.\n');
  process.exit(1);
}
await import(cli.href);
