import { v7 } from 'uuid';

/** UUID v7 ids are generated here, not in SQL: PostgreSQL 15 has no uuidv7(). Time-ordered, so indexes stay compact. */
export function newId(): string {
  return v7();
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}
