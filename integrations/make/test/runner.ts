/**
 * What Make does with the app, step by step, for a test to drive: verify a connection, fill a
 * module's form and run it (its outputs checked against its interface), create, update and delete
 * the instant trigger's webhook, and turn a delivery the webhook receives into the trigger's
 * bundle.
 */
import { type Code, Coverage, child, evalDeep, isRecord, loadApp, onlyKeys } from './app.js';
import { type FormContext, type Param, checkOutput, codeAt, fillForm, resolveParams } from './params.js';
import { type HttpCall, MakeError, type Runtime, communicate } from './request.js';

export { MakeError };

/** A webhook as Make keeps it: its URL, its parameters and what attach answered. */
export interface Hook {
  url: string;
  parameters: Record<string, unknown>;
  data: Record<string, unknown>;
}

export class MakeRunner {
  readonly rt: Runtime;
  connection: Record<string, unknown> = {};

  constructor() {
    const { app, cov } = loadApp(undefined, new Coverage());
    this.rt = { app, cov, calls: [] };
  }

  get calls(): HttpCall[] {
    return this.rt.calls;
  }

  private ctx(parameters: Record<string, unknown> = {}, webhook?: Record<string, unknown>): FormContext {
    return { connection: this.connection, parameters, ...(webhook ? { webhook } : {}) };
  }

  private params(code: Code, ctx: FormContext): Promise<Param[]> {
    return resolveParams(this.rt, code.json, codeAt(code), ctx);
  }

  /** The connection's form and test call (GET /me); on success, its parameters become `connection`. Returns the label (metadata). */
  async connect(values: Record<string, unknown>): Promise<unknown> {
    const { params, communication } = this.rt.app.connection;
    const parameters = await fillForm(this.rt, await this.params(params, this.ctx()), values, this.ctx());
    const r = await communicate(this.rt, communication, { parameters }, { base: false });
    this.connection = { ...parameters, ...r.data };
    return r.metadata;
  }

  /** Runs an RPC as Make's form does (options, fields), with the form's values so far. */
  async rpc(name: string, parameters: Record<string, unknown> = {}, webhook?: Record<string, unknown>): Promise<unknown[]> {
    const rpc = this.rt.app.rpcs[name];
    if (!rpc) throw new Error(`unknown RPC ${name}`);
    await this.params(rpc.params, this.ctx()); // its own parameter list must read as parameters too
    return (await communicate(this.rt, rpc.communication, { connection: this.connection, parameters, webhook }, { base: true })).outputs;
  }

  /** Fills a module's form (static parameters first: the mappable ones may depend on them) and runs it. */
  async run(moduleId: string, values: Record<string, unknown>): Promise<unknown[]> {
    const m = this.rt.app.modules[moduleId];
    if (!m) throw new Error(`unknown module ${moduleId}`);
    if (m.moduleType === 'instant_trigger') throw new Error(`${moduleId} runs from its webhook`);
    const parameters = await this.form(m.staticParams, m.mappableParams, values);
    const r = await communicate(this.rt, m.communication, { connection: this.connection, parameters }, { base: true });
    const iface = await this.params(m.interface, this.ctx(parameters));
    for (const out of r.outputs) await checkOutput(this.rt, iface, out, this.ctx(parameters));
    return r.outputs;
  }

  private async form(staticCode: Code, mappableCode: Code, values: Record<string, unknown>): Promise<Record<string, unknown>> {
    const staticParams = await this.params(staticCode, this.ctx());
    const names = new Set(staticParams.map((p) => p.name));
    const staticValues = Object.fromEntries(Object.entries(values).filter(([k]) => names.has(k)));
    const filled = await fillForm(this.rt, staticParams, staticValues, this.ctx());
    const mappable = await this.params(mappableCode, this.ctx(filled));
    return fillForm(this.rt, [...staticParams, ...mappable], values, this.ctx());
  }

  /** The interface a module shows for these form values (its dynamic fields resolved). */
  async interfaceOf(moduleId: string, parameters: Record<string, unknown>, webhook?: Record<string, unknown>): Promise<Param[]> {
    const m = this.rt.app.modules[moduleId]!;
    return this.params(m.interface, this.ctx(parameters, webhook));
  }

  /** Checks a module's samples against its interface. */
  async checkSamples(moduleId: string, parameters: Record<string, unknown>, webhook?: Record<string, unknown>): Promise<void> {
    const m = this.rt.app.modules[moduleId]!;
    await checkOutput(this.rt, await this.interfaceOf(moduleId, parameters, webhook), m.samples.json, this.ctx(parameters, webhook));
  }

  /** Creating the webhook in Make: its form, then attach (its answer's data is kept as `webhook`). */
  async attach(url: string, values: Record<string, unknown>): Promise<Hook> {
    const w = this.rt.app.webhook;
    const parameters = await fillForm(this.rt, await this.params(w.params, this.ctx()), values, this.ctx());
    const r = await communicate(this.rt, w.attach, { connection: this.connection, parameters, webhook: { url } }, { base: true });
    if (!r.data) throw new Error('attach must keep the remote webhook id in response.data');
    return { url, parameters, data: r.data };
  }

  /** Changing the webhook's parameters in Make: update, with the kept data. */
  async update(hook: Hook, values: Record<string, unknown>): Promise<Hook> {
    const w = this.rt.app.webhook;
    const parameters = await fillForm(this.rt, await this.params(w.params, this.ctx()), values, this.ctx());
    const r = await communicate(this.rt, w.update, { connection: this.connection, parameters, webhook: { url: hook.url, ...hook.data } }, { base: true });
    return { url: hook.url, parameters, data: { ...hook.data, ...r.data } };
  }

  /** Deleting the webhook in Make: detach. */
  async detach(hook: Hook): Promise<void> {
    const w = this.rt.app.webhook;
    await communicate(
      this.rt,
      w.detach,
      { connection: this.connection, parameters: hook.parameters, webhook: { url: hook.url, ...hook.data } },
      { base: true },
    );
  }

  /**
   * A delivery reaching the webhook's URL: the webhook's communication answers the sender
   * (`respond`) and makes the bundle (`output`), which the instant trigger's interface must describe.
   */
  async receive(
    hook: Hook,
    moduleId: string,
    req: { body: unknown; headers: Record<string, unknown>; query: Record<string, unknown> },
  ): Promise<{ respond: { status: number; type: string; body: unknown }; bundle: unknown }> {
    const code = this.rt.app.webhook.communication;
    const spec = code.json;
    if (!isRecord(spec)) throw new Error(`${code.file} must hold an object`);
    onlyKeys(spec, ['respond', 'output'], code.file);
    const webhook = { url: hook.url, ...hook.data };
    const scope = { ...req, connection: this.connection, parameters: hook.parameters, webhook };
    const at = { file: code.file, ptr: '' };
    const respond = evalDeep(spec.respond, scope, child(at, 'respond'), this.rt.cov);
    if (!isRecord(respond)) throw new Error('respond must be an object');
    onlyKeys(respond, ['status', 'type', 'body'], `${code.file}: respond`);
    const bundle = spec.output === undefined ? req.body : evalDeep(spec.output, scope, child(at, 'output'), this.rt.cov);
    const m = this.rt.app.modules[moduleId];
    if (m?.webhook === undefined) throw new Error(`${moduleId} is not an instant trigger`);
    // An instant trigger's form: only what its webhook holds (Make asks for nothing else here).
    if ((await this.params(m.staticParams, this.ctx({}, webhook))).length + (await this.params(m.mappableParams, this.ctx({}, webhook))).length > 0)
      throw new Error(`${moduleId}: an instant trigger takes its parameters from its webhook`);
    // The instant trigger's own communication (optional: this app's is empty) runs per bundle.
    const own = await communicate(this.rt, m.communication, { connection: this.connection, parameters: {}, webhook }, { base: true });
    if (own.sent) throw new Error('the instant trigger makes no request of its own in this app');
    await checkOutput(this.rt, await this.interfaceOf(moduleId, {}, webhook), bundle, this.ctx({}, webhook));
    return { respond: { status: Number(respond.status ?? 200), type: String(respond.type ?? 'json'), body: respond.body }, bundle };
  }
}
