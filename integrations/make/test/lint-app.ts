/**
 * `npm run lint` of this package (with `tsc -p tsconfig.json`): the local project reads as the
 * VS Code extension expects (makecomapp.json names every component and code file, each file is
 * JSON, no file is left out, every module is in a group) and every IML expression compiles with
 * the functions and syntax the test's interpreter knows.
 */
import { loadApp } from './app.js';

const { app, cov, files } = loadApp();
console.log(
  `Make app: ${files.length} files, ${Object.keys(app.modules).length} modules, ${Object.keys(app.rpcs).length} RPCs, 1 webhook, 1 connection; ${cov.all.size} IML strings compile.`,
);
