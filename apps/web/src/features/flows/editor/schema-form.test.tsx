// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { SchemaForm, fieldsOf, parseJson, parseNumber } from './schema-form';
import type { JsonSchema } from './types';

/** The HTTP node's parameter schema as GET /node-types gives it (trimmed). */
const HTTP: JsonSchema = {
  type: 'object',
  properties: {
    method: { type: 'string', enum: ['GET', 'POST'], default: 'GET' },
    url: { type: 'string' },
    headers: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
    body: {},
    timeoutMs: { type: 'integer', minimum: 1, default: 30000 },
    followRedirects: { type: 'boolean', default: true },
    secretId: { type: 'string', format: 'uuid', 'x-ref': 'secret', description: 'vault secret used for auth' },
    events: { type: 'array', items: { type: 'string', enum: ['created', 'updated'] } },
    cases: { type: 'array', items: { type: 'string' } },
    signature: {
      type: 'object',
      properties: { style: { type: 'string', enum: ['generic', 'github'] }, toleranceSec: { type: 'integer' } },
      required: ['style'],
    },
  },
  required: ['url'],
};

afterEach(cleanup);

/** The form wired to state, like the inspector; `seen` records every value it emits. */
function Harness({ initial = {}, errors, seen }: { initial?: Record<string, unknown>; errors?: Record<string, string>; seen: Record<string, unknown>[] }) {
  const [value, setValue] = useState(initial);
  return (
    <SchemaForm
      schema={HTTP}
      value={value}
      errors={errors ?? {}}
      refs={{ secret: [{ value: '0b7f6c1e-2a35-4d3c-9f1e-111111111111', label: 'Stripe key (openai)' }] }}
      onChange={(v) => {
        seen.push(v);
        setValue(v);
      }}
    />
  );
}

describe('parameter form generated from JSON Schema', () => {
  it('picks a control per schema shape', () => {
    expect(fieldsOf(HTTP).map((f) => [f.name, f.kind, f.required])).toEqual([
      ['method', 'enum', false],
      ['url', 'text', true],
      ['headers', 'json', false],
      ['body', 'json', false],
      ['timeoutMs', 'number', false],
      ['followRedirects', 'boolean', false],
      ['secretId', 'ref', false],
      ['events', 'multi', false],
      ['cases', 'lines', false],
      ['signature', 'group', false],
    ]);
    expect(
      fieldsOf(HTTP)
        .find((f) => f.name === 'signature')!
        .children!.map((f) => f.path),
    ).toEqual(['signature.style', 'signature.toleranceSec']);
  });

  it('edits each kind of field and emits typed values', () => {
    const seen: Record<string, unknown>[] = [];
    render(<Harness seen={seen} />);
    fireEvent.change(screen.getByLabelText(/^Url/), { target: { value: 'https://api.example.com/{{ $input.id }}' } });
    fireEvent.change(screen.getByLabelText('Method'), { target: { value: 'POST' } });
    fireEvent.change(screen.getByLabelText('Timeout Ms'), { target: { value: '500' } });
    fireEvent.click(screen.getByLabelText('Follow Redirects'));
    fireEvent.change(screen.getByLabelText('Secret Id'), { target: { value: '0b7f6c1e-2a35-4d3c-9f1e-111111111111' } });
    fireEvent.click(screen.getByLabelText('updated'));
    fireEvent.change(screen.getByLabelText('Cases'), { target: { value: '$input.a > 1\n$input.b' } });
    fireEvent.change(screen.getByLabelText('Headers'), { target: { value: '{"x-team": "blue"}' } });
    fireEvent.change(screen.getByLabelText(/^Style/), { target: { value: 'github' } });
    expect(seen.at(-1)).toEqual({
      url: 'https://api.example.com/{{ $input.id }}',
      method: 'POST',
      timeoutMs: 500,
      followRedirects: false,
      secretId: '0b7f6c1e-2a35-4d3c-9f1e-111111111111',
      events: ['updated'],
      cases: ['$input.a > 1', '$input.b'],
      headers: { 'x-team': 'blue' },
      signature: { style: 'github' },
    });
    expect(screen.getByText('expression')).toBeTruthy();
    expect(screen.getByRole('option', { name: 'Stripe key (openai)' })).toBeTruthy();
  });

  it('keeps bad JSON and bad numbers out of the value and says why', () => {
    const seen: Record<string, unknown>[] = [];
    render(<Harness seen={seen} initial={{ headers: { a: '1' }, timeoutMs: 10 }} />);
    fireEvent.change(screen.getByLabelText('Headers'), { target: { value: '{"a": ' } });
    expect(screen.getByText('Not valid JSON.')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Timeout Ms'), { target: { value: 'ten' } });
    expect(screen.getByText(/A number, or an expression/)).toBeTruthy();
    expect(seen).toEqual([]);
    // A number box also takes an expression.
    fireEvent.change(screen.getByLabelText('Timeout Ms'), { target: { value: '{{ $input.ms }}' } });
    expect(seen.at(-1)).toEqual({ headers: { a: '1' }, timeoutMs: '{{ $input.ms }}' });
  });

  it('shows the server’s problems under their fields, nested ones too', () => {
    render(<Harness seen={[]} errors={{ url: 'Invalid input: expected string', 'signature.style': 'Invalid option' }} />);
    expect(screen.getByLabelText(/^Url/).getAttribute('aria-invalid')).toBe('true');
    expect(screen.getByText('Invalid input: expected string')).toBeTruthy();
    expect(screen.getByText('Invalid option')).toBeTruthy();
  });

  it('parses numbers and JSON the way the form does', () => {
    expect([parseNumber(''), parseNumber(' 2.5 '), parseNumber('x'), parseNumber('{{ $input.n }}')]).toEqual([undefined, 2.5, null, '{{ $input.n }}']);
    expect(parseJson('[1,2]', false)).toEqual([1, 2]);
    expect(parseJson('hello', true)).toBe('hello');
    expect(typeof parseJson('hello', false)).toBe('symbol');
  });
});
