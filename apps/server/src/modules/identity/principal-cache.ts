import type { Role } from '@infinity/contracts';

/**
 * Short-lived cache of what every authenticated request needs (API key → org, role and its
 * creator's current role; user+org → role), so identity costs no query on a hot path. A revoked
 * key or a changed member is an event (key.revoked, member.changed, see identity.events.ts): the
 * cache of every process forgets the entries it touches as soon as the event arrives (a member's
 * demotion or removal also drops their personal keys), and forgets everything on a resync.
 * NB: events cross processes at most once; a process that missed some (its listening connection
 * dropped) is told by a resync and clears everything, so the TTL (INFINITY_AUTH_CACHE_TTL_MS,
 * default 5 s) only bounds what nothing reports: an expiring key, an organization deleted on
 * another process (its members and keys fail on their next query there).
 */
export interface CachedApiKey {
  id: string;
  orgId: string;
  role: Role;
  kind: 'personal' | 'service';
  /** The creator's current role in the key's organization; null when they are no longer a member. */
  creatorRole: Role | null;
  name: string;
  prefix: string;
  createdBy: string | null;
  expiresAt: Date | null;
  /** Requests a minute this key may make; null = the instance default. */
  rateLimit: number | null;
}

interface Entry<T> {
  value: T;
  expires: number;
}

export class PrincipalCache {
  private readonly keys = new Map<string, Entry<CachedApiKey | null>>();
  private readonly roles = new Map<string, Entry<Role | null>>();
  private readonly views = new Map<string, Entry<unknown>>();

  constructor(
    private readonly ttlMs = 5000,
    private readonly maxEntries = 50_000,
    private readonly now: () => number = Date.now,
  ) {}

  async apiKey(hash: string, load: () => Promise<CachedApiKey | null>): Promise<CachedApiKey | null> {
    return this.through(this.keys, hash, load);
  }

  async role(userId: string, orgId: string, load: () => Promise<Role | null>): Promise<Role | null> {
    return this.through(this.roles, `${userId}:${orgId}`, load);
  }

  /** A fresh cached entry, or undefined: lets the hot path answer without a promise. */
  peekApiKey(hash: string): CachedApiKey | null | undefined {
    return this.peek(this.keys, hash);
  }

  peekRole(userId: string, orgId: string): Role | null | undefined {
    return this.peek(this.roles, `${userId}:${orgId}`);
  }

  peekView<T>(key: string): T | undefined {
    return this.peek(this.views as Map<string, Entry<T>>, key);
  }

  private peek<T>(map: Map<string, Entry<T>>, key: string): T | undefined {
    const hit = map.get(key);
    return hit && hit.expires > this.now() ? hit.value : undefined;
  }

  /** Rows read on every request (the /me user and organization); forgotten when this process changes them. */
  async view<T>(key: string, load: () => Promise<T>): Promise<T> {
    return this.through(this.views as Map<string, Entry<T>>, key, load);
  }

  forgetView(key: string): void {
    this.views.delete(key);
  }

  forgetApiKey(hash: string): void {
    this.keys.delete(hash);
  }

  /** A member's role changed or they left: their role and their personal keys there are read again. */
  forgetMembership(userId: string, orgId: string): void {
    this.roles.delete(`${userId}:${orgId}`);
    for (const [k, e] of this.keys) if (e.value?.orgId === orgId && e.value.createdBy === userId) this.keys.delete(k);
  }

  /** Everything is read again (events may have been missed). */
  clear(): void {
    this.keys.clear();
    this.roles.clear();
    this.views.clear();
  }

  forgetOrg(orgId: string): void {
    this.views.delete(`org:${orgId}`);
    for (const k of this.roles.keys()) if (k.endsWith(`:${orgId}`)) this.roles.delete(k);
    for (const [k, e] of this.keys) if (e.value?.orgId === orgId) this.keys.delete(k);
  }

  private async through<T>(map: Map<string, Entry<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const hit = map.get(key);
    const now = this.now();
    if (hit && hit.expires > now) return hit.value;
    const value = await load();
    if (map.size >= this.maxEntries) map.clear();
    map.set(key, { value, expires: now + this.ttlMs });
    return value;
  }
}
