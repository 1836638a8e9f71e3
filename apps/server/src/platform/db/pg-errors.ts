/** SQLSTATE of a driver error, if it is one. */
export function pgErrorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  return pgErrorCode(err) === '23505' && (constraint === undefined || (err as { constraint?: string }).constraint === constraint);
}

export function isForeignKeyViolation(err: unknown): boolean {
  return pgErrorCode(err) === '23503';
}
