// `npm run build` step after tsc: n8n loads a node's icon (`icon: 'file:infinity.svg'`) from beside its built file.
import { cpSync, readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
for (const dir of ['credentials', 'nodes/Infinity', 'nodes/InfinityTrigger']) {
  for (const name of readdirSync(path.join(root, dir)).filter((n) => n.endsWith('.svg'))) {
    cpSync(path.join(root, dir, name), path.join(root, 'dist', dir, name));
  }
}
