/**
 * A thin harness over n8n-workflow's function types: the contexts n8n hands a node
 * (IExecuteFunctions, ILoadOptionsFunctions, IHookFunctions, IWebhookFunctions), implemented with
 * real fetch against a running Infinity, holding only what these nodes use. Anything else a node
 * reaches for throws, so a node that starts using it fails here instead of passing quietly.
 * Neither n8n-workflow nor the published n8n packages export node-testing helpers (n8n keeps its
 * own in its repository), hence this file.
 */
import type {
  ICredentialDataDecryptedObject,
  IDataObject,
  IExecuteFunctions,
  IHookFunctions,
  IHttpRequestOptions,
  ILoadOptionsFunctions,
  INode,
  INodeExecutionData,
  IWebhookFunctions,
} from 'n8n-workflow';
import { InfinityApi } from '../credentials/InfinityApi.credentials';

export interface Credentials {
  baseUrl: string;
  apiKey: string;
  sendAs?: 'header' | 'bearer';
}

export interface ContextOptions {
  credentials: Credentials;
  /** The node's parameters; a function gives each item its own (as n8n resolves expressions per item). */
  parameters: IDataObject | ((itemIndex: number) => IDataObject);
  items?: INodeExecutionData[];
  continueOnFail?: boolean;
  staticData?: IDataObject;
  webhookUrl?: string;
  node?: Partial<INode>;
}

const credentialType = new InfinityApi();

function lookup(params: IDataObject, path: string): unknown {
  let v: unknown = params;
  for (const part of path.split('.')) v = v && typeof v === 'object' ? (v as IDataObject)[part] : undefined;
  return v;
}

function parameterOf(opts: ContextOptions, name: string, itemIndex: number, fallback: unknown, options?: { extractValue?: boolean }): unknown {
  const params = typeof opts.parameters === 'function' ? opts.parameters(itemIndex) : opts.parameters;
  let v = lookup(params, name);
  if (v === undefined) {
    if (fallback === undefined) throw new Error(`harness: the parameter "${name}" is not set and has no fallback`);
    return fallback;
  }
  if (options?.extractValue && v && typeof v === 'object' && '__rl' in v) v = (v as unknown as { value: unknown }).value;
  return v;
}

/** n8n's `httpRequest` for the options these nodes pass (method, url, JSON body, full response, status errors ignored). */
async function httpRequest(options: IHttpRequestOptions): Promise<unknown> {
  const known = new Set(['method', 'url', 'baseURL', 'json', 'returnFullResponse', 'ignoreHttpStatusErrors', 'body', 'headers']);
  for (const k of Object.keys(options)) if (!known.has(k)) throw new Error(`harness: httpRequest option "${k}" is not implemented`);
  const url = options.baseURL ? `${options.baseURL.replace(/\/+$/, '')}${options.url}` : options.url;
  const headers: Record<string, string> = { accept: 'application/json', ...(options.headers as Record<string, string>) };
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const res = await fetch(url, { method: options.method ?? 'GET', headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  if (options.json && text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (res.status >= 400 && !options.ignoreHttpStatusErrors) throw new Error(`harness: HTTP ${res.status}`);
  return options.returnFullResponse
    ? { statusCode: res.status, statusMessage: res.statusText, headers: Object.fromEntries(res.headers), body: parsed }
    : parsed;
}

async function authenticated(creds: Credentials, options: IHttpRequestOptions): Promise<unknown> {
  return httpRequest(await credentialType.authenticate(creds as unknown as ICredentialDataDecryptedObject, options));
}

/** Evaluates the `={{$credentials.name}}` expressions of the credential's test request (the only form it uses). */
function resolveCredentialExpression(value: string | undefined, creds: Credentials): string {
  if (value === undefined) return '';
  const m = /^=\{\{\s*\$credentials\.(\w+)\s*\}\}$/.exec(value);
  if (!m) {
    if (value.startsWith('=')) throw new Error(`harness: expression ${value} is not implemented`);
    return value;
  }
  return String((creds as unknown as Record<string, unknown>)[m[1]!] ?? '');
}

/** n8n's credential test: the credential's test request, authenticated; any 2xx is "OK". */
export async function testCredential(creds: Credentials): Promise<{ status: 'OK' | 'Error'; message: string }> {
  const request = credentialType.test.request;
  const full = (await authenticated(creds, {
    method: request.method ?? 'GET',
    baseURL: resolveCredentialExpression(request.baseURL, creds),
    url: request.url ?? '',
    json: true,
    returnFullResponse: true,
    ignoreHttpStatusErrors: true,
  })) as { statusCode: number; body: { error?: { message?: string } } };
  if (full.statusCode >= 200 && full.statusCode < 300) return { status: 'OK', message: 'Connection tested successfully' };
  return { status: 'Error', message: full.body?.error?.message ?? `HTTP ${full.statusCode}` };
}

function base(opts: ContextOptions) {
  const node: INode = { id: 'node-1', name: 'Infinity', type: 'n8n-nodes-infinity.infinity', typeVersion: 1, position: [0, 0], parameters: {}, ...opts.node };
  const staticData = opts.staticData ?? {};
  return {
    getNode: () => node,
    getCredentials: async () => opts.credentials as unknown as ICredentialDataDecryptedObject,
    getWorkflowStaticData: () => staticData,
    getWorkflow: () => ({ id: 'wf-1', name: 'Harness workflow', active: true }),
    getMode: () => 'manual',
    getActivationMode: () => 'activate',
    getNodeWebhookUrl: () => opts.webhookUrl,
    helpers: {
      httpRequest,
      httpRequestWithAuthentication: async (credentialsType: string, options: IHttpRequestOptions) => {
        if (credentialsType !== 'infinityApi') throw new Error(`harness: unknown credential type ${credentialsType}`);
        return authenticated(opts.credentials, options);
      },
      returnJsonArray: (data: IDataObject | IDataObject[]) => (Array.isArray(data) ? data : [data]).map((json) => ({ json })),
    },
  };
}

/** Anything a node calls that the harness does not implement throws with its name. */
function strict<T extends object>(impl: object, kind: string): T {
  return new Proxy(impl, {
    get(target, prop, receiver) {
      if (prop in target || typeof prop === 'symbol' || prop === 'then') return Reflect.get(target, prop, receiver) as unknown;
      throw new Error(`harness: ${kind}.${prop} is not implemented`);
    },
  }) as T;
}

export function executeContext(opts: ContextOptions): IExecuteFunctions {
  const items = opts.items ?? [{ json: {} }];
  return strict<IExecuteFunctions>(
    {
      ...base(opts),
      getInputData: () => items,
      continueOnFail: () => opts.continueOnFail ?? false,
      getNodeParameter: (name: string, itemIndex: number, fallback?: unknown, options?: { extractValue?: boolean }) =>
        parameterOf(opts, name, itemIndex, fallback, options),
    },
    'IExecuteFunctions',
  );
}

export function loadOptionsContext(opts: ContextOptions): ILoadOptionsFunctions {
  return strict<ILoadOptionsFunctions>(
    {
      ...base(opts),
      getNodeParameter: (name: string, fallback?: unknown, options?: { extractValue?: boolean }) => parameterOf(opts, name, 0, fallback, options),
      getCurrentNodeParameter: (name: string, options?: { extractValue?: boolean }) => parameterOf(opts, name, 0, null, options),
    },
    'ILoadOptionsFunctions',
  );
}

export function hookContext(opts: ContextOptions): IHookFunctions {
  return strict<IHookFunctions>(
    {
      ...base(opts),
      getNodeParameter: (name: string, fallback?: unknown, options?: { extractValue?: boolean }) => parameterOf(opts, name, 0, fallback, options),
      getWebhookName: () => 'default',
    },
    'IHookFunctions',
  );
}

export interface WebhookRequest {
  headers: Record<string, string>;
  rawBody: string;
}

/** A delivery as n8n hands it to the trigger; `response` records what the node answered itself. */
export function webhookContext(opts: ContextOptions, request: WebhookRequest) {
  const response: { status?: number; body?: unknown } = {};
  const res = {
    status(code: number) {
      response.status = code;
      return res;
    },
    json(body: unknown) {
      response.body = body;
      return res;
    },
  };
  const json = JSON.parse(request.rawBody) as IDataObject;
  const ctx = strict<IWebhookFunctions>(
    {
      ...base(opts),
      getNodeParameter: (name: string, fallback?: unknown, options?: { extractValue?: boolean }) => parameterOf(opts, name, 0, fallback, options),
      getHeaderData: () => request.headers,
      getBodyData: () => json,
      getRequestObject: () => ({ rawBody: Buffer.from(request.rawBody, 'utf8'), body: json, headers: request.headers }),
      getResponseObject: () => res,
      getWebhookName: () => 'default',
    },
    'IWebhookFunctions',
  );
  return { ctx, response };
}
