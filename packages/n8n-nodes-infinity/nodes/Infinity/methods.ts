import type {
  IDataObject,
  IExecuteFunctions,
  IHookFunctions,
  ILoadOptionsFunctions,
  INodeListSearchResult,
  INodePropertyOptions,
  ResourceMapperField,
  ResourceMapperFields,
} from 'n8n-workflow';
import { type InfinityField, type InfinityModel, SYSTEM_FIELDS, mapperField, n8nTypeOf } from './model';
import { type InfinityContext, infinityRequest } from './transport';

interface Page<T> {
  data: T[];
  meta: { total?: number | null; nextCursor?: string | null };
}

const PAGE = 100;

/** A model's definition by name (the resource locator's value). */
export async function getModel(ctx: InfinityContext, name: string, itemIndex?: number): Promise<InfinityModel> {
  const r = await infinityRequest<{ data: InfinityModel }>(ctx, 'GET', `/models/${encodeURIComponent(name)}`, { itemIndex });
  return r.body.data;
}

/** The value of a resource locator parameter (list mode or typed) for item i of a run. */
export function locatorValue(ctx: IExecuteFunctions, name: string, itemIndex: number): string {
  return String(ctx.getNodeParameter(name, itemIndex, '', { extractValue: true }) ?? '');
}

/** The same while loading options or managing the trigger's webhook (parameters of the node, not of an item). */
export function currentLocatorValue(ctx: ILoadOptionsFunctions | IHookFunctions, name: string): string {
  return String(ctx.getNodeParameter(name, '', { extractValue: true }) ?? '');
}

async function search<T>(
  ctx: ILoadOptionsFunctions,
  path: string,
  toResult: (x: T) => { name: string; value: string },
  filter?: string,
  paginationToken?: string,
): Promise<INodeListSearchResult> {
  const offset = Number(paginationToken ?? 0) || 0;
  const r = await infinityRequest<Page<T>>(ctx, 'GET', path, {
    query: { limit: PAGE, offset },
  });
  const needle = (filter ?? '').toLowerCase();
  const results = r.body.data.map(toResult).filter((x) => !needle || x.name.toLowerCase().includes(needle) || x.value.toLowerCase().includes(needle));
  const more = r.body.data.length === PAGE;
  return { results, ...(more ? { paginationToken: String(offset + PAGE) } : {}) };
}

export async function searchModels(this: ILoadOptionsFunctions, filter?: string, paginationToken?: string): Promise<INodeListSearchResult> {
  return search<InfinityModel>(this, '/models', (m) => ({ name: m.label ? `${m.label} (${m.name})` : m.name, value: m.name }), filter, paginationToken);
}

export async function searchActions(this: ILoadOptionsFunctions, filter?: string, paginationToken?: string): Promise<INodeListSearchResult> {
  return search<{ id: string; name: string }>(this, '/actions', (a) => ({ name: a.name, value: a.id }), filter, paginationToken);
}

export async function searchFlows(this: ILoadOptionsFunctions, filter?: string, paginationToken?: string): Promise<INodeListSearchResult> {
  return search<{ id: string; name: string }>(this, '/flows', (f) => ({ name: f.name, value: f.id }), filter, paginationToken);
}

/** The chosen model's fields and the system fields, for the filter and sort builders. */
export async function getFields(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
  const name = currentLocatorValue(this, 'model');
  if (!name) return [];
  const model = await getModel(this, name);
  return [
    ...model.fields.map((f) => ({
      name: f.label ? `${f.label} (${f.name})` : f.name,
      value: f.name,
      description: `Type ${f.type}${f.required ? ', required' : ''}`,
    })),
    ...SYSTEM_FIELDS.map((f) => ({ name: f, value: f, description: 'System field' })),
  ];
}

/**
 * The resource mapper's columns for the chosen model, typed per field. Create: the model's fields
 * (required where the model requires a value and has no default). Update: matched on the record
 * ID. Upsert: matched on the ID or a unique field.
 */
export async function getRecordColumns(this: ILoadOptionsFunctions): Promise<ResourceMapperFields> {
  const name = currentLocatorValue(this, 'model');
  if (!name) return { fields: [] };
  const operation = this.getNodeParameter('operation', 'create') as string;
  const model = await getModel(this, name);
  const writable = model.fields.filter((f) => !['id', 'createdAt', 'updatedAt'].includes(f.name));
  const idField: InfinityField = { name: 'id', type: 'string' };
  const id = (opts: Parameters<typeof mapperField>[1]) => ({ ...mapperField(idField, opts), displayName: 'ID' });
  if (operation === 'update') {
    return {
      fields: [id({ required: true, canBeUsedToMatch: true, defaultMatch: true }), ...writable.map((f) => mapperField(f, { required: false }))],
    };
  }
  if (operation === 'upsert') {
    const keys = writable.filter((f) => f.unique);
    return {
      fields: [
        id({ required: false, canBeUsedToMatch: true, defaultMatch: keys.length === 0 }),
        ...writable.map((f) =>
          mapperField(f, { required: f.required === true && f.default === undefined, canBeUsedToMatch: f.unique === true, defaultMatch: f === keys[0] }),
        ),
      ],
    };
  }
  return { fields: writable.map((f) => mapperField(f, { required: f.required === true && f.default === undefined })) };
}

interface ActionParam {
  name: string;
  type: string;
  required?: boolean;
  description?: string;
  default?: unknown;
  value?: unknown;
}

/** The parameters a run of the chosen action takes (those fixed at definition are left out). */
export async function getActionColumns(this: ILoadOptionsFunctions): Promise<ResourceMapperFields> {
  const id = currentLocatorValue(this, 'action');
  if (!id) return { fields: [] };
  const r = await infinityRequest<{ data: { params: ActionParam[] } }>(this, 'GET', `/actions/${encodeURIComponent(id)}`);
  const fields: ResourceMapperField[] = r.body.data.params
    .filter((p) => p.value === undefined)
    .map((p) => ({
      id: p.name,
      displayName: p.description ? `${p.name} — ${p.description}` : p.name,
      required: p.required === true && p.default === undefined,
      defaultMatch: false,
      display: true,
      type: n8nTypeOf({ type: p.type }),
    }));
  return { fields, emptyFieldsNotice: 'This action takes no parameters' };
}

export function actionParamsOf(values: IDataObject, params: ResourceMapperField[]): IDataObject {
  const out: IDataObject = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    const type = params.find((p) => p.id === k)?.type;
    out[k] = coerceParam(type, v) as IDataObject[string];
  }
  return out;
}

function coerceParam(type: string | undefined, v: unknown): unknown {
  if (typeof v !== 'string') return v;
  if (type === 'number' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  if (type === 'boolean' && (v === 'true' || v === 'false')) return v === 'true';
  if (type === 'object') {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }
  return v;
}
