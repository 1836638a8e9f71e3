import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { isCurrent } from '../concurrency.js';
import { ifMatchOf } from './conditional.js';

const withHeader = (value?: string | string[]) => ({ headers: value === undefined ? {} : { 'if-match': value } }) as unknown as FastifyRequest;

describe('If-Match parsing', () => {
  it.each([
    ['absent', undefined, undefined],
    ['*', '*', undefined],
    ['a strong tag', '"7"', ['7']],
    ['a weak tag (counts as its strong tag)', 'W/"7"', ['7']],
    ['a list', '"7", W/"8" ,"9"', ['7', '8', '9']],
    ['a bare token', '7', ['7']],
    ['* in a list', '"7", *', undefined],
    ['a record version', '"2026-05-04T10:11:12.123456Z"', ['2026-05-04T10:11:12.123456Z']],
    ['several headers', ['"7"', '"8"'], ['7', '8']],
  ])('%s', (_, header, expected) => {
    expect(ifMatchOf(withHeader(header))).toEqual(expected);
  });

  it.each([['"unterminated'], ['"7" "8"'], [' , '], ['a b']])('refuses %j with a 400', (header) => {
    expect(() => ifMatchOf(withHeader(header))).toThrow(expect.objectContaining({ status: 400, code: 'VALIDATION_FAILED' }));
  });

  it('matches a version by its tag; no expectation always matches', () => {
    expect(isCurrent(undefined, 3)).toBe(true);
    expect(isCurrent(['2', '3'], 3)).toBe(true);
    expect(isCurrent(['2'], 3)).toBe(false);
  });
});
