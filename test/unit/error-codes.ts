import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** A stable error code as the catalogue spells them (`INTERNAL`, `NODE_FAILED`). */
const CODE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;

export interface RaisedCode {
  code: string;
  /** file:line, for the failure message. */
  at: string;
}

/** Every string literal in an expression (`a ? 'X' : 'Y'`, `e.code ?? 'Z'`), not inside nested functions. */
function literals(node: ts.Node): string[] {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isFunctionLike(node)) return [];
  const out: string[] = [];
  node.forEachChild((child) => {
    out.push(...literals(child));
  });
  return out;
}

const propertyName = (p: ts.ObjectLiteralElementLike): string | undefined =>
  p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : undefined;

function property(obj: ts.ObjectLiteralExpression, name: string): ts.Expression | undefined {
  for (const p of obj.properties) if (ts.isPropertyAssignment(p) && propertyName(p) === name) return p.initializer;
  return undefined;
}

const calleeName = (e: ts.Expression): string | undefined => (ts.isIdentifier(e) ? e.text : ts.isPropertyAccessExpression(e) ? e.name.text : undefined);

/**
 * The error codes a source file can raise, found in its syntax:
 *   new NodeError(message, { code: … })      a node's failure
 *   new AppError(code, …)                    an HTTP error built by hand
 *   defineErrors({ CODE: … })                a module's HTTP error catalogue
 *   { code: …, message: … }                  a failure written as data (the engine's Failure, a run's error)
 * Codes computed at run time are out of its reach; every place above spells its codes as literals.
 */
export function raisedCodes(fileName: string, text: string): RaisedCode[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: RaisedCode[] = [];
  const add = (node: ts.Node, candidates: string[]) => {
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    for (const code of candidates) if (CODE.test(code)) found.push({ code, at: `${fileName}:${line}` });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isNewExpression(node)) {
      const name = calleeName(node.expression);
      const [first, second] = node.arguments ?? [];
      if (name === 'NodeError' && second && ts.isObjectLiteralExpression(second)) {
        const code = property(second, 'code');
        if (code) add(code, literals(code));
      }
      if (name === 'AppError' && first) add(first, literals(first));
    }
    if (ts.isCallExpression(node) && calleeName(node.expression) === 'defineErrors') {
      const [specs] = node.arguments;
      if (specs && ts.isObjectLiteralExpression(specs))
        for (const p of specs.properties) {
          const name = propertyName(p);
          if (name) add(p, [name]);
        }
    }
    if (ts.isObjectLiteralExpression(node)) {
      const names = new Set(node.properties.map(propertyName));
      const code = property(node, 'code');
      if (code && names.has('message')) add(code, literals(code));
    }
    node.forEachChild(visit);
  };
  visit(source);
  return found;
}

/** The production source files of the server and of the packages it ships (tests and test kits of the server left out). */
export function serverSourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && full !== path.join(root, 'apps/server/src/platform/testing')) walk(full);
      } else if (/\.ts$/.test(entry.name) && !/\.(test|spec)\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
    }
  };
  for (const dir of ['apps/server/src', 'packages/contracts/src', 'packages/node-sdk/src']) walk(path.join(root, dir));
  return out.sort();
}

export function codesRaisedByTheServer(root: string): RaisedCode[] {
  return serverSourceFiles(root).flatMap((file) => raisedCodes(path.relative(root, file), readFileSync(file, 'utf8')));
}

/** The codes docs/errors.md lists: the first cell of each table row. */
export function documentedCodes(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/gm)].map((m) => m[1]!));
}
