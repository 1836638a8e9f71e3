import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The dependency rules fire: a small tree laid out like this repository, with one planted
 * violation per rule beside imports the rules allow, is cruised by the same depcruise command and
 * configuration as `npm run lint`, which must fail naming each planted file under its rule.
 */
const root = path.resolve(import.meta.dirname, '../..');
const depcruise = path.join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

const tree: Record<string, string> = {
  'apps/server/src/platform/errors.ts': 'export const platform = 1;\n',
  'apps/server/src/config/index.ts': 'export const config = 1;\n',
  'apps/server/src/modules/records/index.ts': 'export const records = 1;\n',
  'apps/server/src/modules/engine/graph.ts': 'export const graph = 1;\n',
  // Allowed: the engine on platform and on itself.
  'apps/server/src/modules/engine/executor.ts':
    "import { platform } from '../../platform/errors.js';\nimport { graph } from './graph.js';\nexport const executor = platform + graph;\n",
  // Planted: the engine reaching into a module, and into config.
  'apps/server/src/modules/engine/planted-module.ts': "import { records } from '../records/index.js';\nexport const x = records;\n",
  'apps/server/src/modules/engine/planted-config.ts': "import { config } from '../../config/index.js';\nexport const y = config;\n",
  'apps/web/src/lib/api.ts': 'export const api = 1;\n',
  'apps/web/src/app/App.tsx': 'export const App = 1;\n',
  // Allowed: components on lib, a feature on components and lib.
  'apps/web/src/components/ui.tsx': "import { api } from '../lib/api';\nexport const ui = api;\n",
  'apps/web/src/features/data/Data.tsx': "import { ui } from '../../components/ui';\nimport { api } from '../../lib/api';\nexport const Data = ui + api;\n",
  // Planted, one rule each.
  'apps/web/src/features/data/planted-server.ts': "import { records } from '../../../../server/src/modules/records/index.js';\nexport const z = records;\n",
  'apps/web/src/features/data/planted-builtin.ts': "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n",
  'apps/web/src/features/flows/planted-feature.ts': "import { Data } from '../data/Data';\nexport const w = Data;\n",
  'apps/web/src/features/flows/planted-app.ts': "import { App } from '../../app/App';\nexport const v = App;\n",
  'apps/web/src/components/planted-feature.ts': "import { Data } from '../features/data/Data';\nexport const u = Data;\n",
  'apps/web/src/lib/planted-component.ts': "import { ui } from '../components/ui';\nexport const t = ui;\n",
  'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', jsx: 'react-jsx', strict: true } }),
};

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

let dir = '';
let result: { status: number | null; violations: Violation[] };

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'infinity-depcruise-'));
  for (const [file, text] of Object.entries(tree)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  // The reporter `npm run lint` uses (err): one line per violation, `error <rule>: <from> → <to>`.
  const r = spawnSync(process.execPath, [depcruise, 'apps', '--config', path.join(root, '.dependency-cruiser.cjs')], { cwd: dir, encoding: 'utf8' });
  // NB: with CI=true dependency-cruiser colours its output even into a pipe: read it without the colour codes.
  const violations = [...stripVTControlCharacters(r.stdout).matchAll(/^\s*error (\S+): (\S+) → (\S+)$/gm)].map(([, rule, from, to]) => ({
    rule: { name: rule! },
    from: from!,
    to: to!,
  }));
  result = { status: r.status, violations };
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const firing = (rule: string) =>
  result.violations
    .filter((v) => v.rule.name === rule)
    .map((v) => v.from)
    .sort();

describe('dependency rules (the depcruise step of npm run lint)', () => {
  it('fails the command on a planted violation', () => {
    expect(result.status).not.toBe(0);
  });

  it('the engine stays free of other modules and of config; platform and itself are allowed', () => {
    expect(firing('engine-stays-free-of-other-modules')).toEqual([
      'apps/server/src/modules/engine/planted-config.ts',
      'apps/server/src/modules/engine/planted-module.ts',
    ]);
  });

  it('the web app imports no server code and no Node built-ins', () => {
    expect(firing('web-talks-to-the-server-over-http')).toEqual(['apps/web/src/features/data/planted-server.ts']);
    expect(firing('web-runs-in-the-browser')).toEqual(['apps/web/src/features/data/planted-builtin.ts']);
  });

  it('the web app keeps its layers: features stand alone, shared code knows no feature, lib is below components, nothing imports app', () => {
    expect(firing('web-features-stand-alone')).toEqual(['apps/web/src/features/flows/planted-feature.ts']);
    expect(firing('web-layers-import-downward')).toEqual(['apps/web/src/features/flows/planted-app.ts']);
    expect(firing('web-shared-code-knows-no-feature')).toEqual(['apps/web/src/components/planted-feature.ts']);
    expect(firing('web-lib-is-below-components')).toEqual(['apps/web/src/lib/planted-component.ts']);
  });

  it('nothing else fires: every violation is a planted one', () => {
    expect(result.violations.filter((v) => !path.basename(v.from).startsWith('planted-'))).toEqual([]);
  });

  it('npm run lint cruises the web app, the server, the packages and the tests', () => {
    const lint = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { lint: string } }).scripts.lint;
    const command = /depcruise ([^&]+) --config \.dependency-cruiser\.cjs/.exec(lint)?.[1]?.split(' ') ?? [];
    expect(command).toEqual(expect.arrayContaining(['apps/server/src', 'apps/web/src', 'packages/contracts/src', 'packages/node-sdk/src', 'test']));
  });
});
