import { type DomainEventType, ROLES, type Role, type DomainEvent as TypedEvent } from '@infinity/contracts';
import { AppError, commonErrors } from '../../platform/errors.js';
import type { EventSpine } from '../../platform/events/index.js';
import type { Logger } from '../../platform/logger.js';
import { type Authenticator, type ServiceActor, assertCan, can } from '../access/index.js';
import { type RecordsContext, checkFilter, recordsMatchEach } from '../records/index.js';
import { type Credential, type Principal, authenticateCredential } from './realtime.auth.js';
import { CHANNEL_TYPES, type RECORD_TYPES, dataOf, keysOf, specOf } from './realtime.channels.js';
import { Connection, type Sink, type Subscription } from './realtime.connection.js';
import { type ErrorBody, type EventText, type Match, sseError, sseEvent, wsError, wsEvent } from './realtime.frames.js';
import { Interest } from './realtime.interest.js';
import { LOG_FLUSH_MS, REPLAY_MAX, ReplayLog } from './realtime.log.js';
import { type ChannelParams, MAX_SUBSCRIPTIONS } from './realtime.protocol.js';
import { realtimeErrors } from './realtime.errors.js';
import { type Exec, type PresenceRow, closePresence, existsInOrg, openPresence, presenceOf, renewPresence } from './realtime.repo.js';
import { StatsFeed } from './realtime.stats.js';

export interface HubSettings {
  sendBuffer: number;
  maxConnections: number;
  replayWindowSeconds: number;
}

export interface HubNeeds {
  db: Exec;
  events: EventSpine;
  records: RecordsContext;
  authenticate: Authenticator;
  logger: Pick<Logger, 'warn' | 'error'>;
  settings: HubSettings;
}

const PRESENCE_TTL_SECONDS = 60;
const isRole = (r: string): r is Role => (ROLES as readonly string[]).includes(r);
export const errorBody = (e: AppError): ErrorBody => ({ code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) });
const isRecordEvent = (e: TypedEvent): e is Extract<TypedEvent, { type: (typeof RECORD_TYPES)[number] }> => e.type.startsWith('record.');
type Send = (sub: Subscription, eventId: string, text: string) => void;

/**
 * Realtime connections of this process and their subscriptions, indexed organization → channel
 * key, fed by the event spine (see README.md beside this file). Every event is checked against the
 * connection's current organization and role as it is sent.
 */
export class Hub {
  private readonly conns = new Set<Connection>();
  private readonly byOrg = new Map<string, Set<Connection>>();
  private readonly index = new Map<string, Map<string, Set<Subscription>>>();
  private readonly chains = new Map<string, Promise<void>>();
  /** Organizations whose events are logged for replay: connected now, or until this time (ms). */
  private readonly logging = new Map<string, number>();
  private readonly interest: Interest;
  readonly log: ReplayLog;
  private readonly stats: StatsFeed;
  private readonly offs: (() => void)[];

  constructor(private readonly n: HubNeeds) {
    this.interest = new Interest(n.events, (e) => this.onEvent(e), n.settings.replayWindowSeconds * 1000);
    this.log = new ReplayLog(n.db, n.settings.replayWindowSeconds, n.logger);
    this.stats = new StatsFeed(
      (org) => Boolean(this.index.get(org)?.get('stats')?.size),
      (org, text) => this.pushStats(org, text),
    );
    // Revocations and member changes reach every process (broadcast types).
    this.offs = [
      n.events.subscribe('key.revoked', (e) => {
        for (const c of this.byOrg.get(e.orgId) ?? [])
          if (c.principal.actor.kind === 'apiKey' && c.principal.actor.apiKeyId === e.keyId)
            this.drop(c, realtimeErrors.REALTIME_ACCESS_REVOKED('This API key was revoked.'));
      }),
      n.events.subscribe('member.changed', (e) => {
        for (const c of this.byOrg.get(e.orgId) ?? []) {
          const a = c.principal.actor;
          if (a.kind === 'user' && a.userId === e.userId) {
            if (e.role === null) this.drop(c, realtimeErrors.REALTIME_ACCESS_REVOKED('You are no longer a member of this organization.'));
            // The new role applies to the very next event.
            else if (isRole(e.role)) c.principal = { ...c.principal, actor: { ...a, role: e.role } };
          } else if (a.kind === 'apiKey' && a.userId === e.userId) void this.reauthenticate(c);
        }
      }),
      n.events.onResync(() => {
        for (const c of this.conns) void this.reauthenticate(c);
      }),
    ];
  }

  get size(): number {
    return this.conns.size;
  }

  full(): boolean {
    return this.conns.size >= this.n.settings.maxConnections;
  }

  authenticate(credential: Credential): Promise<Principal> {
    return authenticateCredential(this.n.authenticate, this.n.db, credential);
  }

  add(sink: Sink, principal: Principal): Connection {
    const conn = new Connection(sink, principal);
    this.conns.add(conn);
    let set = this.byOrg.get(conn.orgId);
    if (!set) this.byOrg.set(conn.orgId, (set = new Set()));
    set.add(conn);
    this.logging.set(conn.orgId, Infinity);
    this.armExpiry(conn);
    return conn;
  }

  /** A fresh credential for the same person or key in the same organization (WebSocket `auth` again). */
  renew(conn: Connection, principal: Principal): void {
    const a = principal.actor;
    const b = conn.principal.actor;
    const same = a.orgId === b.orgId && (a.kind === 'user' ? b.kind === 'user' && a.userId === b.userId : b.kind === 'apiKey' && a.apiKeyId === b.apiKeyId);
    if (!same) throw commonErrors.FORBIDDEN('A connection renews with a credential of the same user or key in the same organization.');
    conn.principal = principal;
    this.armExpiry(conn);
  }

  /** Closes a connection with an error (or none) and forgets it. */
  drop(conn: Connection, error?: AppError): void {
    if (conn.closed) return;
    this.remove(conn);
    conn.sink.close(error);
  }

  /** The peer went: forget the connection and its subscriptions. */
  remove(conn: Connection): void {
    if (conn.closed) return;
    conn.closed = true;
    clearTimeout(conn.expiry);
    for (const id of [...conn.subs.keys()]) this.unsubscribe(conn, id);
    this.conns.delete(conn);
    const set = this.byOrg.get(conn.orgId);
    set?.delete(conn);
    if (set && !set.size) {
      this.byOrg.delete(conn.orgId);
      this.logging.set(conn.orgId, Date.now() + this.n.settings.replayWindowSeconds * 1000);
    }
  }

  /**
   * Checks a subscription (permission, that what it names exists, the filter) without attaching it:
   * SSE answers a bad one with an HTTP error before the stream starts. Throws an AppError.
   */
  async check(conn: Connection, id: string, params: ChannelParams): Promise<Subscription> {
    if (conn.subs.has(id)) throw realtimeErrors.REALTIME_SUBSCRIPTION_EXISTS(`A subscription "${id}" exists on this connection.`);
    if (conn.subs.size >= MAX_SUBSCRIPTIONS) throw realtimeErrors.REALTIME_SUBSCRIPTION_LIMIT();
    const spec = specOf(params);
    const actor = conn.principal.actor;
    assertCan(actor, spec.permission);
    const db = this.n.db;
    const exists = async (kind: Parameters<typeof existsInOrg>[1], value: string | undefined, what: string) => {
      if (value !== undefined && !(await existsInOrg(db, kind, value, actor.orgId))) throw commonErrors.NOT_FOUND(`No ${what} ${value} in this organization.`);
    };
    let extra: Pick<Subscription, 'filter' | 'filterKey'> = {};
    switch (params.channel) {
      case 'records': {
        const filter = await checkFilter(this.n.records, actor, params.model, params.filter);
        if (filter) extra = { filter, filterKey: JSON.stringify(filter) };
        break;
      }
      case 'execution':
        await exists('execution', params.executionId, 'execution');
        break;
      case 'executions':
      case 'flow':
        await exists('flow', params.flowId, 'flow');
        break;
      case 'agents':
        await exists('agent', params.agentId, 'agent');
        await exists('conversation', params.conversationId, 'conversation');
        break;
      case 'notifications':
      case 'stats':
        break;
    }
    return { conn, id, idJson: JSON.stringify(id), orgId: actor.orgId, params, spec, ...extra };
  }

  /** Attaches a checked subscription; for the flow channel, opens presence and answers who has the flow open. */
  async attach(sub: Subscription, opts: { hold?: boolean } = {}): Promise<{ presence?: PresenceRow[] }> {
    const conn = sub.conn;
    if (conn.closed) return {};
    if (conn.subs.has(sub.id)) throw realtimeErrors.REALTIME_SUBSCRIPTION_EXISTS(`A subscription "${sub.id}" exists on this connection.`);
    if (opts.hold) sub.held = [];
    conn.subs.set(sub.id, sub);
    let byKey = this.index.get(sub.orgId);
    if (!byKey) this.index.set(sub.orgId, (byKey = new Map<string, Set<Subscription>>()));
    let set = byKey.get(sub.spec.key);
    if (!set) byKey.set(sub.spec.key, (set = new Set()));
    set.add(sub);
    this.interest.retain(sub.spec.types);
    if (sub.params.channel !== 'flow') return {};
    const flowId = sub.params.flowId;
    const who = conn.principal.who;
    await openPresence(this.n.db, { connectionId: conn.id, orgId: sub.orgId, flowId, userId: who.id, name: who.name, ttlSeconds: PRESENCE_TTL_SECONDS });
    this.publishPresence(sub, 'open');
    return { presence: await presenceOf(this.n.db, sub.orgId, flowId) };
  }

  unsubscribe(conn: Connection, id: string): boolean {
    const sub = conn.subs.get(id);
    if (!sub) return false;
    conn.subs.delete(id);
    const byKey = this.index.get(sub.orgId);
    const set = byKey?.get(sub.spec.key);
    set?.delete(sub);
    if (set && !set.size) byKey!.delete(sub.spec.key);
    if (byKey && !byKey.size) this.index.delete(sub.orgId);
    if (sub.spec.key === 'stats' && !byKey?.get('stats')?.size) this.stats.forget(sub.orgId);
    this.interest.release(sub.spec.types);
    if (sub.params.channel === 'flow') {
      const flowId = sub.params.flowId;
      this.publishPresence(sub, 'closed');
      void closePresence(this.n.db, conn.id, flowId).catch((err: unknown) => this.n.logger.warn({ err }, 'could not close realtime presence'));
    }
    return true;
  }

  /**
   * A reconnect (SSE Last-Event-ID, or a WebSocket subscribe with lastEventId): sends what the subscription missed since `lastEventId` (same checks as live
   * events), then the live events that arrived meanwhile; REPLAY_UNAVAILABLE when that cannot be done.
   */
  async replay(sub: Subscription, lastEventId: string): Promise<void> {
    const direct: Send = (s, _id, text) => this.send(s.conn, text);
    const replayed = new Set<string>();
    try {
      const types = sub.spec.types.filter((t) => CHANNEL_TYPES.has(t));
      // Other processes write their batches every LOG_FLUSH_MS: let the latest land first.
      await new Promise((r) => setTimeout(r, 2 * LOG_FLUSH_MS));
      const events = sub.spec.key === 'stats' || !/^[0-9a-f-]{36}$/i.test(lastEventId) ? null : await this.log.after(sub.orgId, lastEventId, types);
      if (!events) {
        const error = errorBody(
          realtimeErrors.REPLAY_UNAVAILABLE(
            `The events since ${lastEventId.slice(0, 40)} cannot be replayed (the window is ${this.n.settings.replayWindowSeconds} s and ${REPLAY_MAX} events): reload, then follow the stream.`,
          ),
        );
        this.send(sub.conn, sub.conn.sink.kind === 'ws' ? wsError(sub.id, error) : sseError(error));
      } else
        for (const e of events) {
          if (!keysOf(e).includes(sub.spec.key)) continue;
          replayed.add(e.id);
          await this.deliver(e, [sub], direct);
        }
    } finally {
      const held = sub.held ?? [];
      sub.held = undefined;
      for (const h of held) if (!replayed.has(h.eventId)) this.send(sub.conn, h.text);
    }
  }

  /** Heartbeat: every connection is pinged; one that left two pings unanswered is cut off. */
  beat(): void {
    for (const c of this.conns) if (!c.sink.beat()) this.remove(c);
  }

  /** Renews this process's presence rows (those of a dead process lapse). */
  async renewPresence(): Promise<void> {
    const ids = [...this.conns].filter((c) => [...c.subs.values()].some((s) => s.params.channel === 'flow')).map((c) => c.id);
    await renewPresence(this.n.db, ids, PRESENCE_TTL_SECONDS);
  }

  /** The spine types listened to now. */
  listening(): DomainEventType[] {
    return this.interest.listening();
  }

  /** Closes every connection (the server is about to close). */
  closeAll(): void {
    for (const c of [...this.conns]) this.drop(c);
  }

  async stop(): Promise<void> {
    this.closeAll();
    for (const off of this.offs) off();
    this.interest.stop();
    this.stats.stop();
    await Promise.allSettled([...this.chains.values()]);
    await this.log.stop();
  }

  private onEvent(e: TypedEvent): void {
    if (!CHANNEL_TYPES.has(e.type)) return;
    const until = this.logging.get(e.orgId);
    if (until !== undefined) {
      if (until >= Date.now()) this.log.add(e);
      else this.logging.delete(e.orgId);
    }
    this.stats.count(e);
    const byKey = this.index.get(e.orgId);
    if (!byKey) return;
    const targets: Subscription[] = [];
    for (const k of keysOf(e)) for (const s of byKey.get(k) ?? []) targets.push(s);
    if (!targets.length) return;
    const live: Send = (sub, eventId, text) => this.sendLive(sub, eventId, text);
    const prev = this.chains.get(e.orgId);
    const async = isRecordEvent(e) && targets.some((t) => t.filter);
    // Events of one organization leave in order: while a filter is being evaluated, later ones wait behind it.
    if (!async && !prev) {
      void this.deliver(e, targets, live);
      return;
    }
    const next = (prev ?? Promise.resolve())
      .then(() => this.deliver(e, targets, live))
      .catch((err: unknown) => this.n.logger.warn({ err, event: { type: e.type, id: e.id } }, 'realtime delivery failed'));
    this.chains.set(e.orgId, next);
    void next.finally(() => {
      if (this.chains.get(e.orgId) === next) this.chains.delete(e.orgId);
    });
  }

  /** Sends one event to these subscriptions; record events with filters are evaluated first (once per distinct filter). */
  private async deliver(e: TypedEvent, targets: Subscription[], send: Send): Promise<void> {
    const verdicts = isRecordEvent(e) && targets.some((t) => t.filter) ? await this.verdicts(e, targets) : undefined;
    const text: EventText = { eventId: e.id, event: e.type, body: JSON.stringify(dataOf(e)), at: e.at };
    for (const sub of targets) {
      const conn = sub.conn;
      if (conn.closed || conn.orgId !== e.orgId) continue;
      if (sub.spec.match && !sub.spec.match(e)) continue;
      if (!can(conn.principal.actor.role, e.permission)) continue;
      const m = sub.filterKey ? verdicts?.get(sub.filterKey) : undefined;
      if (m === false) continue;
      send(sub, e.id, conn.sink.kind === 'ws' ? wsEvent(sub.idJson, text, m) : sseEvent(text, m));
    }
  }

  /**
   * Per distinct filter: whether a record event goes to its subscribers (false: no), and for an
   * update whether the record entered or left the filter. One SQL statement for all filters.
   */
  private async verdicts(e: Extract<TypedEvent, { type: (typeof RECORD_TYPES)[number] }>, targets: Subscription[]): Promise<Map<string, Match | false>> {
    const filters = new Map<string, NonNullable<Subscription['filter']>>();
    for (const t of targets) if (t.filter && t.filterKey) filters.set(t.filterKey, t.filter);
    const keys = [...filters.keys()];
    const rows = e.type === 'record.created' ? [e.after] : e.type === 'record.deleted' ? [e.before] : e.before ? [e.before, e.after] : [e.after];
    const actor: ServiceActor = { kind: 'service', service: 'realtime', orgId: e.orgId, role: 'viewer' };
    const out = new Map<string, Match | false>();
    let result: boolean[][];
    try {
      result = await recordsMatchEach(this.n.records, actor, e.model, [...filters.values()], rows);
    } catch (err) {
      // The model changed under the filter (a field dropped): its subscribers get nothing rather than everything.
      this.n.logger.warn({ err, model: e.model }, 'a realtime records filter could not be evaluated');
      for (const k of keys) out.set(k, false);
      return out;
    }
    keys.forEach((k, i) => {
      if (e.type !== 'record.updated') return out.set(k, result[0]![i] ? undefined : false);
      if (!e.before) return out.set(k, result[0]![i] ? undefined : 'left');
      const was = result[0]![i];
      const is = result[1]![i];
      return out.set(k, was && is ? undefined : is ? 'entered' : was ? 'left' : false);
    });
    return out;
  }

  private pushStats(orgId: string, text: EventText): void {
    for (const sub of this.index.get(orgId)?.get('stats') ?? []) {
      if (sub.conn.closed || !can(sub.conn.principal.actor.role, 'stats:read')) continue;
      const frame = sub.conn.sink.kind === 'ws' ? wsEvent(sub.idJson, text, undefined) : sseEvent(text, undefined);
      this.sendLive(sub, text.eventId, frame);
    }
  }

  private publishPresence(sub: Subscription, state: 'open' | 'closed'): void {
    if (sub.params.channel !== 'flow') return;
    const who = sub.conn.principal.who;
    this.n.events.publish({
      type: 'flow.presence',
      orgId: sub.orgId,
      permission: 'flows:read',
      flowId: sub.params.flowId,
      userId: who.id,
      name: who.name,
      connectionId: sub.conn.id,
      state,
    });
  }

  /** A live frame: sent, or held while the subscription's replay runs (bounded like the send buffer). */
  private sendLive(sub: Subscription, eventId: string, text: string): void {
    if (!sub.held) return this.send(sub.conn, text);
    sub.held.push({ eventId, text });
    sub.heldBytes = (sub.heldBytes ?? 0) + text.length;
    if (sub.heldBytes > this.n.settings.sendBuffer)
      this.drop(sub.conn, realtimeErrors.SLOW_CONSUMER(`More than ${this.n.settings.sendBuffer} bytes of events arrived while the replay ran; reconnect.`));
  }

  /** Bounded memory: a connection whose unsent bytes pass the bound is dropped with SLOW_CONSUMER. */
  private send(conn: Connection, text: string): void {
    if (conn.closed) return;
    conn.sink.write(text);
    if (conn.sink.buffered() > this.n.settings.sendBuffer)
      this.drop(conn, realtimeErrors.SLOW_CONSUMER(`More than ${this.n.settings.sendBuffer} bytes waited to be sent to this connection; it is closed.`));
  }

  private armExpiry(conn: Connection): void {
    clearTimeout(conn.expiry);
    const at = conn.principal.expiresAt;
    if (at === null) return;
    conn.expiry = setTimeout(() => this.drop(conn, realtimeErrors.REALTIME_TOKEN_EXPIRED()), Math.max(0, at - Date.now()));
    conn.expiry.unref();
  }

  /** Identity again with the kept credential: the current role, or the connection closes. */
  private async reauthenticate(conn: Connection): Promise<void> {
    try {
      const p = await this.authenticate(conn.principal.credential);
      if (conn.closed) return;
      if (p.actor.orgId !== conn.orgId) throw realtimeErrors.REALTIME_ACCESS_REVOKED();
      conn.principal = { ...conn.principal, actor: p.actor };
    } catch (err) {
      this.drop(conn, err instanceof AppError && err.code === 'REALTIME_TOKEN_EXPIRED' ? err : realtimeErrors.REALTIME_ACCESS_REVOKED());
    }
  }
}
