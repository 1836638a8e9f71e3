import type {
  IDataObject,
  IExecuteFunctions,
  IHookFunctions,
  IHttpRequestMethods,
  IHttpRequestOptions,
  ILoadOptionsFunctions,
  INode,
  JsonObject,
} from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

/** The contexts that call Infinity: a node's run, its dynamic options, and the trigger's webhook methods. */
export type InfinityContext = IExecuteFunctions | ILoadOptionsFunctions | IHookFunctions;

export interface InfinityError {
  code: string;
  message: string;
  details?: unknown;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  itemIndex?: number;
  /** Statuses answered without an error (e.g. 404 where "not there" is an answer). */
  allow?: number[];
}

export interface InfinityResponse<T> {
  status: number;
  body: T;
}

function errorOf(status: number, body: unknown): InfinityError {
  const e = (body as { error?: Partial<InfinityError> } | undefined)?.error;
  if (e && typeof e.code === 'string' && typeof e.message === 'string') return { code: e.code, message: e.message, details: e.details };
  const text = typeof body === 'string' ? body.slice(0, 300) : '';
  return { code: `HTTP_${status}`, message: text || `Infinity answered HTTP ${status}` };
}

/** A NodeApiError whose message starts with Infinity's error code; the code itself is in `context.infinityCode`. */
export function infinityApiError(node: INode, status: number, body: unknown, itemIndex?: number): NodeApiError {
  const e = errorOf(status, body);
  const error = new NodeApiError(node, { code: e.code, message: e.message, details: (e.details ?? null) as JsonObject } as JsonObject, {
    message: `${e.code}: ${e.message}`,
    description: e.details === undefined || e.details === null ? undefined : JSON.stringify(e.details),
    httpCode: String(status),
    itemIndex,
  });
  error.context.infinityCode = e.code;
  if (e.details !== undefined) error.context.infinityDetails = e.details as IDataObject;
  return error;
}

/** The JSON of an error item when "continue on fail" is on: Infinity's code and message. */
export function errorItem(error: unknown): IDataObject {
  const e = error as { message?: string; context?: IDataObject; description?: string | null };
  return {
    error: e.message ?? String(error),
    ...(e.context?.infinityCode ? { code: e.context.infinityCode } : {}),
    ...(e.context?.infinityDetails ? { details: e.context.infinityDetails } : {}),
  };
}

function parse(body: unknown): unknown {
  if (typeof body !== 'string' || body === '') return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

/** One call to `/api/v1…` of the credential's server, authenticated by the credential; non-2xx answers become NodeApiErrors. */
export async function infinityRequest<T = IDataObject>(
  ctx: InfinityContext,
  method: IHttpRequestMethods,
  path: string,
  options: RequestOptions = {},
): Promise<InfinityResponse<T>> {
  const credentials = await ctx.getCredentials<{ baseUrl: string }>('infinityApi');
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined && v !== '') query.set(k, String(v));
  const qs = query.toString();
  const request: IHttpRequestOptions = {
    method,
    url: `${String(credentials.baseUrl).replace(/\/+$/, '')}/api/v1${path}${qs ? `?${qs}` : ''}`,
    json: true,
    returnFullResponse: true,
    ignoreHttpStatusErrors: true,
    ...(options.body !== undefined ? { body: options.body as IDataObject } : {}),
  };
  const response = (await ctx.helpers.httpRequestWithAuthentication.call(ctx, 'infinityApi', request)) as { statusCode: number; body: unknown };
  const body = parse(response.body);
  if (response.statusCode >= 400 && !(options.allow ?? []).includes(response.statusCode)) {
    throw infinityApiError(ctx.getNode(), response.statusCode, body, options.itemIndex);
  }
  return { status: response.statusCode, body: body as T };
}
