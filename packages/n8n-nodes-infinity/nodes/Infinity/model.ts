import type { FieldType, IDataObject, ResourceMapperField } from 'n8n-workflow';

/** A field of an Infinity model, as `GET /api/v1/models/{name}` describes it. */
export interface InfinityField {
  name: string;
  type: string;
  label?: string | null;
  required?: boolean;
  unique?: boolean;
  default?: unknown;
  values?: string[];
  items?: string;
  target?: string;
}

export interface InfinityModel {
  name: string;
  label?: string | null;
  description?: string | null;
  fields: InfinityField[];
}

/** The fields every record carries besides the model's own. */
export const SYSTEM_FIELDS = ['id', 'createdAt', 'updatedAt'] as const;

/** n8n's type for a field of an Infinity type (SPEC §13): the resource mapper shows and checks values by it. */
export function n8nTypeOf(field: Pick<InfinityField, 'type'>): FieldType {
  switch (field.type) {
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'date':
    case 'datetime':
      return 'dateTime';
    case 'enum':
      return 'options';
    case 'json':
      return 'object';
    case 'array':
      return 'array';
    default:
      // string, text, relation (the related record's id)
      return 'string';
  }
}

export function mapperField(field: InfinityField, opts: { required: boolean; canBeUsedToMatch?: boolean; defaultMatch?: boolean }): ResourceMapperField {
  return {
    id: field.name,
    displayName: field.label ? `${field.label} (${field.name})` : field.name,
    required: opts.required,
    defaultMatch: opts.defaultMatch ?? false,
    canBeUsedToMatch: opts.canBeUsedToMatch ?? false,
    display: true,
    type: n8nTypeOf(field),
    ...(field.type === 'enum' ? { options: (field.values ?? []).map((v) => ({ name: v, value: v })) } : {}),
  };
}

/**
 * Values as Infinity takes them, by field type: the resource mapper may hand over text (an
 * expression's result, or "attempt to convert types" off) where a number, boolean or JSON is meant.
 */
export function coerceValues(model: InfinityModel, values: IDataObject): IDataObject {
  const out: IDataObject = {};
  for (const [name, raw] of Object.entries(values)) {
    if (raw === undefined) continue;
    const field = model.fields.find((f) => f.name === name);
    out[name] = (field ? coerce(field, raw) : raw) as IDataObject[string];
  }
  return out;
}

function coerce(field: InfinityField, v: unknown): unknown {
  if (v === null || v === '') return v === '' && field.type !== 'string' && field.type !== 'text' ? null : v;
  switch (field.type) {
    case 'integer':
    case 'number':
      return typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v;
    case 'boolean':
      return v === 'true' ? true : v === 'false' ? false : v;
    case 'json':
    case 'array':
      if (typeof v !== 'string') return v;
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return v;
      }
    case 'date':
      // n8n's date-time values carry a time; a date field takes the day.
      return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) ? v.slice(0, 10) : v;
    case 'datetime':
      return typeof v === 'object' && v !== null && 'toISO' in v ? (v as { toISO(): string }).toISO() : v;
    default:
      return v;
  }
}
