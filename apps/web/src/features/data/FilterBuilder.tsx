import { Button } from '../../components/ui';
import { type Condition, type FilterGroup, OPERATOR_LABEL, operatorsFor } from './filter';
import type { FieldDef } from './types';

const box = 'rounded-md border border-zinc-300 bg-white px-2 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900';
const SYSTEM: FieldDef[] = [
  { name: 'createdAt', type: 'datetime' },
  { name: 'updatedAt', type: 'datetime' },
];

/**
 * Conditions on a model's fields (all or any must hold), each with the operators its type allows;
 * the parent turns the group into the records filter language with `toFilter`.
 */
export function FilterBuilder({ fields, value, onChange }: { fields: FieldDef[]; value: FilterGroup; onChange: (g: FilterGroup) => void }) {
  const all = [...fields, ...SYSTEM];
  const typeOf = (name: string) => all.find((f) => f.name === name)?.type ?? 'string';
  const set = (i: number, c: Partial<Condition>) => onChange({ ...value, conditions: value.conditions.map((x, j) => (j === i ? { ...x, ...c } : x)) });
  const add = () => {
    const first = fields[0]?.name ?? 'createdAt';
    onChange({ ...value, conditions: [...value.conditions, { field: first, op: operatorsFor(typeOf(first))[0]!, value: '' }] });
  };
  return (
    <fieldset className="flex flex-col gap-2 rounded-lg border border-zinc-200 p-3 dark:border-zinc-800" aria-label="Filter">
      <legend className="px-1 text-sm font-medium">Filter</legend>
      <label className="flex items-center gap-2 text-sm">
        Records matching
        <select className={box} value={value.match} onChange={(e) => onChange({ ...value, match: e.target.value as 'all' | 'any' })} aria-label="Match">
          <option value="all">all</option>
          <option value="any">any</option>
        </select>
        of these conditions
      </label>
      {value.conditions.map((c, i) => {
        const ops = operatorsFor(typeOf(c.field));
        const f = all.find((x) => x.name === c.field);
        return (
          <div key={i} className="flex flex-wrap items-center gap-2" role="group" aria-label={`Condition ${i + 1}`}>
            <select
              className={box}
              aria-label={`Condition ${i + 1} field`}
              value={c.field}
              onChange={(e) => {
                const next = operatorsFor(typeOf(e.target.value));
                set(i, { field: e.target.value, op: next.includes(c.op) ? c.op : next[0]!, value: '' });
              }}
            >
              {all.map((x) => (
                <option key={x.name}>{x.name}</option>
              ))}
            </select>
            <select className={box} aria-label={`Condition ${i + 1} operator`} value={c.op} onChange={(e) => set(i, { op: e.target.value as Condition['op'] })}>
              {ops.map((o) => (
                <option key={o} value={o}>
                  {OPERATOR_LABEL[o]}
                </option>
              ))}
            </select>
            {c.op === 'isNull' ? (
              <select className={box} aria-label={`Condition ${i + 1} value`} value={c.value || 'true'} onChange={(e) => set(i, { value: e.target.value })}>
                <option value="true">yes</option>
                <option value="false">no</option>
              </select>
            ) : f?.type === 'enum' && c.op !== 'in' && c.op !== 'nin' ? (
              <select className={box} aria-label={`Condition ${i + 1} value`} value={c.value} onChange={(e) => set(i, { value: e.target.value })}>
                <option value="">—</option>
                {(f.values ?? []).map((v) => (
                  <option key={v}>{v}</option>
                ))}
              </select>
            ) : f?.type === 'boolean' ? (
              <select className={box} aria-label={`Condition ${i + 1} value`} value={c.value} onChange={(e) => set(i, { value: e.target.value })}>
                <option value="">—</option>
                <option value="true">yes</option>
                <option value="false">no</option>
              </select>
            ) : (
              <input
                className={box}
                aria-label={`Condition ${i + 1} value`}
                type={
                  (f?.type === 'date' || f?.type === 'datetime') && c.op !== 'in' && c.op !== 'nin' ? (f.type === 'date' ? 'date' : 'datetime-local') : 'text'
                }
                placeholder={c.op === 'in' || c.op === 'nin' ? 'a, b, c' : 'value'}
                value={c.value}
                onChange={(e) => set(i, { value: e.target.value })}
              />
            )}
            <Button
              variant="ghost"
              aria-label={`Remove condition ${i + 1}`}
              onClick={() => onChange({ ...value, conditions: value.conditions.filter((_, j) => j !== i) })}
            >
              ✕
            </Button>
          </div>
        );
      })}
      <div>
        <Button variant="secondary" onClick={add}>
          Add condition
        </Button>
      </div>
    </fieldset>
  );
}
