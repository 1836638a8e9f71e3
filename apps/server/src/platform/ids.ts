import { v7 } from 'uuid';
import { createHash } from 'node:crypto';

/** UUID v7 ids are generated here, not in SQL: PostgreSQL 15 has no uuidv7(). Time-ordered, so indexes stay compact. */
export function newId(): string {
  return v7();
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

/**
 * A UUID v7 derived from a time and a key: the same inputs always give the same id (an effect
 * keyed by the event that caused it is applied once, however often the event is delivered), and
 * it sorts by `at` like any other v7 id.
 */
export function derivedId(at: Date, key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  const ms = Math.max(0, Math.min(at.getTime(), 2 ** 48 - 1))
    .toString(16)
    .padStart(12, '0');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${hex.slice(0, 3)}-${variant}${hex.slice(3, 6)}-${hex.slice(6, 18)}`;
}
