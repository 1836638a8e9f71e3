import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { filterOf, sortOf } from './filters';
import { actionParamsOf, getModel, locatorValue } from './methods';
import { type InfinityModel, coerceValues, n8nTypeOf } from './model';
import { errorItem, infinityRequest } from './transport';

type Data<T = IDataObject> = { data: T };
type ListPage = { data: IDataObject[]; meta: { nextCursor?: string | null } };

const MAX_PAGE = 1000;
const enc = encodeURIComponent;

/** One run of the node: models and action definitions fetched once, whatever the number of items. */
export class Run {
  private readonly models = new Map<string, Promise<InfinityModel>>();

  constructor(private readonly ctx: IExecuteFunctions) {}

  model(name: string, i: number): Promise<InfinityModel> {
    let m = this.models.get(name);
    if (!m) {
      m = getModel(this.ctx, name, i);
      this.models.set(name, m);
    }
    return m;
  }

  /** The values a resource mapper parameter gives for item i: mapped below, or the item's own fields when auto-mapped. */
  private mapped(param: string, i: number, keep: (key: string) => boolean): IDataObject {
    const mode = this.ctx.getNodeParameter(`${param}.mappingMode`, i, 'defineBelow') as string;
    if (mode === 'autoMapInputData') {
      const json = this.ctx.getInputData()[i]?.json ?? {};
      return Object.fromEntries(Object.entries(json).filter(([k]) => keep(k)));
    }
    return { ...((this.ctx.getNodeParameter(`${param}.value`, i, {}) as IDataObject | null) ?? {}) };
  }

  async recordValues(name: string, i: number, withId: boolean): Promise<IDataObject> {
    const model = await this.model(name, i);
    const values = this.mapped('columns', i, (k) => (withId && k === 'id') || model.fields.some((f) => f.name === k));
    return coerceValues(model, values);
  }

  async record(operation: string, i: number): Promise<IDataObject[]> {
    const ctx = this.ctx;
    const name = locatorValue(ctx, 'model', i);
    const base = `/data/${enc(name)}`;
    switch (operation) {
      case 'create': {
        const body = await this.recordValues(name, i, false);
        return [(await infinityRequest<Data>(ctx, 'POST', base, { body, itemIndex: i })).body.data];
      }
      case 'update': {
        const { id, ...body } = await this.recordValues(name, i, true);
        if (!id) throw new NodeOperationError(ctx.getNode(), 'The record ID to update is missing', { itemIndex: i });
        return [(await infinityRequest<Data>(ctx, 'PATCH', `${base}/${enc(String(id))}`, { body, itemIndex: i })).body.data];
      }
      case 'upsert': {
        const values = await this.recordValues(name, i, true);
        const key = (ctx.getNodeParameter('columns.matchingColumns', i, []) as string[])[0] ?? 'id';
        if (values[key] === undefined || values[key] === null || values[key] === '')
          throw new NodeOperationError(ctx.getNode(), `The key field "${key}" has no value`, { itemIndex: i });
        const r = await infinityRequest<Data<{ items: Array<{ id: string; created?: boolean }> }>>(ctx, 'POST', `${base}/bulk`, {
          body: { op: 'upsert', key, items: [values] },
          itemIndex: i,
        });
        const written = r.body.data.items[0]!;
        const record = (await infinityRequest<Data>(ctx, 'GET', `${base}/${enc(written.id)}`, { itemIndex: i })).body.data;
        return [record];
      }
      case 'delete': {
        const id = ctx.getNodeParameter('recordId', i) as string;
        await infinityRequest(ctx, 'DELETE', `${base}/${enc(id)}`, { itemIndex: i });
        return [{ id, deleted: true }];
      }
      case 'get': {
        const id = ctx.getNodeParameter('recordId', i) as string;
        return [(await infinityRequest<Data>(ctx, 'GET', `${base}/${enc(id)}`, { itemIndex: i })).body.data];
      }
      case 'getAll':
        return this.list(name, i);
      case 'search': {
        const mode = ctx.getNodeParameter('mode', i) as string;
        const filter = filterOf(ctx.getNodeParameter('filters', i, {}) as IDataObject, ctx.getNodeParameter('matchType', i, 'all') as string);
        const options = ctx.getNodeParameter('searchOptions', i, {}) as { threshold?: number };
        const body: IDataObject = {
          query: ctx.getNodeParameter('query', i) as string,
          k: ctx.getNodeParameter('topK', i) as number,
          mode,
          ...(filter ? { filter } : {}),
          ...(mode === 'vector' && options.threshold !== undefined ? { threshold: options.threshold } : {}),
        };
        return (await infinityRequest<Data<IDataObject[]>>(ctx, 'POST', `${base}/search`, { body, itemIndex: i })).body.data;
      }
      default:
        throw new NodeOperationError(ctx.getNode(), `The operation "${operation}" is not known`, { itemIndex: i });
    }
  }

  /** Get many: pages through the cursor until the limit (or, with Return All, the end). */
  private async list(name: string, i: number): Promise<IDataObject[]> {
    const ctx = this.ctx;
    const returnAll = ctx.getNodeParameter('returnAll', i) as boolean;
    const limit = returnAll ? Number.POSITIVE_INFINITY : (ctx.getNodeParameter('limit', i) as number);
    const filter = filterOf(ctx.getNodeParameter('filters', i, {}) as IDataObject, ctx.getNodeParameter('matchType', i, 'all') as string);
    const sort = sortOf(ctx.getNodeParameter('sort', i, {}) as IDataObject);
    const { q } = ctx.getNodeParameter('options', i, {}) as { q?: string };
    const out: IDataObject[] = [];
    let cursor: string | undefined;
    do {
      const query = {
        limit: Math.min(MAX_PAGE, limit - out.length),
        ...(filter ? { filter: JSON.stringify(filter) } : {}),
        sort,
        q,
        cursor,
      };
      const page = (await infinityRequest<ListPage>(ctx, 'GET', `/data/${enc(name)}`, { query, itemIndex: i })).body;
      out.push(...page.data);
      cursor = page.meta.nextCursor ?? undefined;
    } while (cursor && out.length < limit);
    return out;
  }

  /** Bulk create: every item's values in one request, one transaction; items out in the same order. */
  async bulkCreate(items: INodeExecutionData[]): Promise<INodeExecutionData[]> {
    const ctx = this.ctx;
    const name = locatorValue(ctx, 'model', 0);
    const values = await Promise.all(items.map((_, i) => this.recordValues(name, i, false)));
    try {
      const r = await infinityRequest<Data<{ items: Array<{ index: number; id: string }> }>>(ctx, 'POST', `/data/${enc(name)}/bulk`, {
        body: { op: 'create', items: values },
      });
      return r.body.data.items.map((it) => ({ json: { id: it.id, ...values[it.index] }, pairedItem: { item: it.index } }));
    } catch (error) {
      if (!ctx.continueOnFail()) throw error;
      // All or nothing: no item was written, so every item carries the refusal.
      return items.map((_, i) => ({ json: errorItem(error), pairedItem: { item: i } }));
    }
  }

  async action(i: number): Promise<IDataObject[]> {
    const ctx = this.ctx;
    const id = locatorValue(ctx, 'action', i);
    const definition = (
      await infinityRequest<Data<{ params: Array<{ name: string; type: string; value?: unknown }> }>>(ctx, 'GET', `/actions/${enc(id)}`, { itemIndex: i })
    ).body.data;
    const schema = definition.params
      .filter((p) => p.value === undefined)
      .map((p) => ({ id: p.name, displayName: p.name, type: n8nTypeOf(p), required: false, defaultMatch: false, display: true }));
    const values = this.mapped('parameters', i, (k) => schema.some((p) => p.id === k));
    const r = await infinityRequest<Data>(ctx, 'POST', `/actions/${enc(id)}/run`, { body: { params: actionParamsOf(values, schema) }, itemIndex: i });
    return [r.body.data];
  }

  async flow(i: number): Promise<IDataObject[]> {
    const ctx = this.ctx;
    const id = locatorValue(ctx, 'flow', i);
    const raw = ctx.getNodeParameter('input', i, '{}') as unknown;
    let input: unknown = raw;
    if (typeof raw === 'string') {
      try {
        input = raw.trim() === '' ? null : (JSON.parse(raw) as unknown);
      } catch {
        throw new NodeOperationError(ctx.getNode(), 'The input is not valid JSON', { itemIndex: i });
      }
    }
    const r = await infinityRequest<Data>(ctx, 'POST', `/flows/${enc(id)}/run`, { query: { wait: 'true' }, body: { input }, itemIndex: i });
    const execution = r.body.data;
    if (execution.status === 'failed') {
      const cause = execution.error as { message?: string } | string | null;
      const message = typeof cause === 'string' ? cause : (cause?.message ?? 'no error message');
      throw new NodeOperationError(ctx.getNode(), `The flow's execution ${String(execution.id)} failed: ${message}`, {
        itemIndex: i,
        description: JSON.stringify(execution.error ?? null),
      });
    }
    return [execution];
  }
}
