/**
 * Counts failed logins per email and per IP in a sliding window. In-process: one instance sees its
 * own failures (the Redis-backed limiter of the operations issue shares them across instances).
 * Bounded: each key keeps at most `max` timestamps and the table at most `maxKeys` keys.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limits: { perEmail: number; perIp: number; windowSeconds: number },
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  /** Seconds to wait, or 0 when a login attempt may proceed. */
  retryAfter(email: string, ip: string): number {
    return Math.max(this.wait(`e:${email.toLowerCase()}`, this.limits.perEmail), this.wait(`i:${ip}`, this.limits.perIp));
  }

  recordFailure(email: string, ip: string): void {
    this.push(`e:${email.toLowerCase()}`, this.limits.perEmail);
    this.push(`i:${ip}`, this.limits.perIp);
  }

  recordSuccess(email: string): void {
    this.failures.delete(`e:${email.toLowerCase()}`);
  }

  private recent(key: string): number[] {
    const cutoff = this.now() - this.limits.windowSeconds * 1000;
    const list = (this.failures.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length) this.failures.set(key, list);
    else this.failures.delete(key);
    return list;
  }

  private wait(key: string, max: number): number {
    const list = this.recent(key);
    if (list.length < max) return 0;
    const oldest = list[list.length - max] ?? this.now();
    return Math.max(1, Math.ceil((oldest + this.limits.windowSeconds * 1000 - this.now()) / 1000));
  }

  private push(key: string, max: number): void {
    const list = this.recent(key);
    list.push(this.now());
    if (list.length > max) list.splice(0, list.length - max);
    this.failures.delete(key);
    this.failures.set(key, list);
    if (this.failures.size > this.maxKeys) {
      const oldestKey = this.failures.keys().next().value;
      if (oldestKey !== undefined) this.failures.delete(oldestKey);
    }
  }
}
