import type { SelectHTMLAttributes } from 'react';
import type { Option } from '../lib/refs';
import { Select } from './ui';

/** A select over options loaded from the API, with an empty first choice ("choose…" by default). */
export function OptionSelect({
  options,
  empty = 'choose…',
  value,
  onValue,
  ...props
}: { options: Option[] | undefined; empty?: string; value: string; onValue: (v: string) => void } & Omit<
  SelectHTMLAttributes<HTMLSelectElement>,
  'value' | 'onChange'
>) {
  return (
    <Select {...props} value={value} onChange={(e) => onValue(e.target.value)}>
      <option value="">{empty}</option>
      {(options ?? []).map((o) => (
        <option key={o.value} value={o.value}>
          {o.label}
        </option>
      ))}
    </Select>
  );
}
