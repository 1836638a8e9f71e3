// Reports the gzip size of every built file and what the first load of each main page costs — the
// entry chunk plus the page's own chunk and everything they import (from Vite's manifest) — and
// fails when the dashboard's first load passes the budget. Run after `vite build`.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET_KB = 300;
const dist = path.resolve(import.meta.dirname, '../dist');
const kb = (n) => Math.round((n / 1024) * 10) / 10;
const gz = new Map(
  readdirSync(path.join(dist, 'assets')).map((f) => {
    const bytes = readFileSync(path.join(dist, 'assets', f));
    return [`assets/${f}`, { raw: bytes.length, gz: gzipSync(bytes).length }];
  }),
);
const manifest = JSON.parse(readFileSync(path.join(dist, '.vite/manifest.json'), 'utf8'));

/** The JavaScript files a module needs before it runs: itself and its static imports, recursively. */
function closure(key, out = new Set()) {
  const chunk = manifest[key];
  if (!chunk || out.has(chunk.file)) return out;
  out.add(chunk.file);
  for (const i of chunk.imports ?? []) closure(i, out);
  return out;
}
const entry = Object.keys(manifest).find((k) => manifest[k].isEntry);
const pages = {
  'sign-in page': [entry],
  dashboard: [entry, 'src/features/dashboard/Dashboard.tsx'],
  'records grid': [entry, 'src/features/data/Records.tsx'],
  'flow editor': [entry, 'src/features/flows/editor/FlowEditor.tsx'],
};

console.log('| file | raw KB | gzip KB |\n|---|---:|---:|');
for (const [f, s] of [...gz].sort((a, b) => b[1].gz - a[1].gz)) console.log(`| ${f} | ${kb(s.raw)} | ${kb(s.gz)} |`);
console.log('\n| first load of | JavaScript, gzip KB |\n|---|---:|');
const totals = {};
for (const [page, keys] of Object.entries(pages)) {
  const files = new Set(keys.flatMap((k) => [...closure(k)]));
  totals[page] = [...files].reduce((a, f) => a + (gz.get(f)?.gz ?? 0), 0);
  console.log(`| ${page} | ${kb(totals[page])} |`);
}
console.log(`\nDashboard first load: ${kb(totals.dashboard)} KB gzip (budget ${BUDGET_KB} KB)`);
if (totals.dashboard > BUDGET_KB * 1024) {
  console.error('Over the budget: split the dashboard (lazy charts) or the entry chunk before adding more to them.');
  process.exit(1);
}
