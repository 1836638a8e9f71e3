/**
 * The test's IML interpreter refuses what it does not know — an unknown function, variable,
 * directive, parameter key or type — instead of skipping it, and follows Make's documented
 * semantics where the app relies on them.
 */
import { describe, expect, it } from 'vitest';
import { Coverage } from './app.js';
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
});
