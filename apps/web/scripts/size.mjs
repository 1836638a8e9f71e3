// Reports the gzip size of every built file and fails when the JavaScript the first page needs
// (the entry chunk and what index.html loads) passes the budget. Run after `vite build`.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET_KB = 300;
const dist = path.resolve(import.meta.dirname, '../dist');
const kb = (n) => Math.round((n / 1024) * 10) / 10;
const files = readdirSync(path.join(dist, 'assets')).map((f) => {
  const bytes = readFileSync(path.join(dist, 'assets', f));
  return { f, raw: bytes.length, gz: gzipSync(bytes).length };
});
const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
const initial = files.filter((x) => x.f.endsWith('.js') && html.includes(x.f));
console.log('| file | raw KB | gzip KB | first load |\n|---|---:|---:|---|');
for (const x of files.sort((a, b) => b.gz - a.gz)) console.log(`| ${x.f} | ${kb(x.raw)} | ${kb(x.gz)} | ${initial.includes(x) ? 'yes' : ''} |`);
const first = initial.reduce((a, x) => a + x.gz, 0);
console.log(`\nFirst-load JavaScript: ${kb(first)} KB gzip (budget ${BUDGET_KB} KB)`);
if (first > BUDGET_KB * 1024) {
  console.error('Over the budget: split the entry chunk (lazy routes) before adding more to it.');
  process.exit(1);
}
