/**
 * The test's IML interpreter refuses what it does not know — an unknown function, variable,
 * directive, parameter key or type — instead of skipping it, and follows Make's documented
 * semantics where the app relies on them.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_ROOT, Coverage, loadApp } from './app.js';
import { ImlError, compile, evalString } from './iml.js';
import { type Param, fillForm } from './params.js';
import { type Runtime, communicate } from './request.js';

const rt = (): Runtime => ({
  app: { base: { file: 'base', json: { baseUrl: 'http://127.0.0.1:9' } } } as Runtime['app'],
  cov: new Coverage(),
  calls: [],
});

describe('IML interpreter', () => {
  it('fails on unknown functions, variables and syntax', () => {
    expect(() => compile('{{formatDate(now, "YYYY")}}')).toThrow(ImlError);
    expect(() => compile('{{a ? b : c}}')).toThrow('unknown character "?"');
    expect(() => compile('{{body.data')).toThrow('unclosed');
    expect(() => evalString('{{item.id}}', { body: {} })).toThrow('unknown IML variable "item"');
    expect(() => evalString('{{1 < "2"}}', {})).toThrow('takes numbers');
    expect(() => evalString('x {{body}}', { body: { a: 1 } })).toThrow('cannot be interpolated');
  });

  it('keeps the type of a lone expression, interpolates text, and reads Make-style paths', () => {
    expect(evalString('{{body.data}}', { body: { data: [1, 2] } })).toEqual([1, 2]);
    expect(evalString('[{{statusCode}}] {{body.error.code}}', { statusCode: 404, body: {} })).toBe('[404] ');
    expect(evalString('{{headers.`webhook-id`}}', { headers: { 'webhook-id': 'w1' } })).toBe('w1');
    expect(evalString('{{body.items[1]}}', { body: { items: ['first', 'second'] } })).toBe('first');
    expect(evalString("{{1 = 1 && '1' == 1}}", {})).toBe(false);
    expect(evalString("{{switch(x, 'a', 1, 'b', 2, 3)}}", { x: 'b' })).toBe(2);
    expect(evalString("{{switch(x, 'a', 1, 'b', 2, 3)}}", { x: 'z' })).toBe(3);
    expect(evalString("{{toCollection(p, 'key', 'value')}}", { p: [{ key: 'a', value: 1 }] })).toEqual({ a: 1 });
    expect(evalString("{{omit(p, 'm')}}", { p: { m: 1, n: 2 } })).toEqual({ n: 2 });
    expect(evalString("{{!contains(keys(p), 'value')}}", { p: { value: null } })).toBe(false);
    expect(evalString("{{ifempty(a, 'x')}} {{ifempty(b, 'x')}}", { a: '', b: 0 })).toBe('x 0');
  });

  it('fails on directives, parameter keys and types it does not implement', async () => {
    await expect(communicate(rt(), { file: 'm', json: { url: '/x', repeat: { condition: 'true' } } }, {}, { base: true })).rejects.toThrow('"repeat"');
    await expect(communicate(rt(), { file: 'm', json: { url: '/x', response: { trigger: { id: '{{item.id}}' } } } }, {}, { base: true })).rejects.toThrow(
      '"trigger"',
    );
    const at = { file: 'p', ptr: '' };
    const ctx = { connection: {}, parameters: {} };
    await expect(fillForm(rt(), [{ name: 'f', type: 'filename', at } as Param], { f: 'a.txt' }, ctx)).rejects.toThrow('not known');
    await expect(fillForm(rt(), [{ name: 'n', type: 'uinteger', at } as Param], { n: -1 }, ctx)).rejects.toThrow('not an integer');
    await expect(fillForm(rt(), [{ name: 'n', type: 'text', at } as Param], { other: 'x' }, ctx)).rejects.toThrow('no such parameter');
  });

  it('reads the local project strictly: a stray file, an unknown key or a broken expression fails the load', () => {
    const { cov } = loadApp();
    expect(cov.unvisited()).toHaveLength(cov.all.size);
    const dirs: string[] = [];
    const copy = () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'make-app-'));
      cpSync(APP_ROOT, dir, { recursive: true });
      dirs.push(dir);
      return dir;
    };
    const stray = copy();
    writeFileSync(path.join(stray, 'modules/notes.iml.json'), '{}');
    expect(() => loadApp(stray)).toThrow('files no component names in makecomapp.json: modules/notes.iml.json');
    const unknownKey = copy();
    const manifest = JSON.parse(readFileSync(path.join(unknownKey, 'makecomapp.json'), 'utf8')) as {
      components: { module: Record<string, Record<string, unknown>> };
    };
    manifest.components.module.getRecord!.moduleSubtype = 'action';
    writeFileSync(path.join(unknownKey, 'makecomapp.json'), JSON.stringify(manifest));
    expect(() => loadApp(unknownKey)).toThrow('unknown key "moduleSubtype"');
    const broken = copy();
    writeFileSync(path.join(broken, 'rpcs/list-models/list-models.communication.iml.json'), '{"url": "/models/{{parseDate(now)}}"}');
    expect(() => loadApp(broken)).toThrow('unknown IML function parseDate()');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
});
