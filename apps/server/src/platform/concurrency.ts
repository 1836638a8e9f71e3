import { commonErrors } from './errors.js';

/**
 * Optimistic concurrency (SPEC §6 "No lost updates"): a write may name the versions it was based
 * on (the entity tags of an `If-Match` header, without quotes); `undefined` means unconditional.
 * The check belongs in the write's own transaction — a row lock or a conditional UPDATE — never a
 * read before it, or two writers holding the same version could both pass.
 */
export type Expected = readonly string[] | undefined;

/** Whether `current` is one of the versions the write expects (always, when it expects none). */
export function isCurrent(expected: Expected, current: number | string): boolean {
  return expected === undefined || expected.includes(String(current));
}

/** The entity tag of a version, as the `ETag` header and `details.etag` carry it. */
export const etagOf = (version: number | string): string => `"${version}"`;

/** 412: the resource changed since the client read it; nothing was changed. */
export function preconditionFailed(what: string, current: number | string) {
  return commonErrors.PRECONDITION_FAILED(
    `This ${what} was changed by someone else since you read it (it is now at version ${current}). Nothing was changed: read it again, then reapply your change.`,
    { currentVersion: current, etag: etagOf(current) },
  );
}
