/**
 * The one error type. Every failure a client sees is an AppError with a stable code from a
 * catalogue (docs/errors.md lists them all; a test keeps the two in step).
 * NB: messages are shown to clients: never put secret values, tokens or SQL parameters in them.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
  }
}

export interface ErrorSpec {
  status: number;
  /** What the code means, for docs/errors.md. */
  description: string;
}

const catalogue = new Map<string, ErrorSpec>();

/**
 * Declares error codes for a module and returns typed factories:
 *   const errors = defineErrors({ VAULT_SECRET_NOT_FOUND: { status: 404, description: '…' } });
 *   throw errors.VAULT_SECRET_NOT_FOUND('No secret with this id.');
 */
export function defineErrors<const T extends Record<string, ErrorSpec>>(specs: T) {
  const factories = {} as { [K in keyof T]: (message?: string, details?: unknown) => AppError };
  for (const [code, spec] of Object.entries(specs)) {
    const existing = catalogue.get(code);
    if (existing && existing.status !== spec.status) throw new Error(`error code ${code} declared twice with different statuses`);
    catalogue.set(code, spec);
    (factories as Record<string, (m?: string, d?: unknown) => AppError>)[code] = (message, details) =>
      new AppError(code, spec.status, message ?? spec.description, details);
  }
  return factories;
}

export function errorCatalogue(): ReadonlyMap<string, ErrorSpec> {
  return catalogue;
}

/** Codes any module may raise. */
export const commonErrors = defineErrors({
  VALIDATION_FAILED: { status: 400, description: 'The request does not match the schema; details lists each problem with its field.' },
  INVALID_JSON: { status: 400, description: 'The body is not valid JSON.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'The Content-Type is not accepted by this route.' },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'The body is larger than INFINITY_BODY_LIMIT.' },
  ROUTE_NOT_FOUND: { status: 404, description: 'No route has this method and path.' },
  NOT_FOUND: { status: 404, description: 'The resource does not exist in this organization.' },
  UNAUTHENTICATED: { status: 401, description: 'No valid credential (access token or API key) was given.' },
  FORBIDDEN: { status: 403, description: "The caller's role does not allow this operation." },
  CONFLICT: { status: 409, description: 'The change conflicts with the current state.' },
  PRECONDITION_FAILED: {
    status: 412,
    description:
      'If-Match names a version that is no longer current: someone else changed the resource since it was read. details.currentVersion and details.etag give the current version; nothing was changed.',
  },
  RATE_LIMITED: { status: 429, description: 'Too many requests; retry after the number of seconds in Retry-After.' },
  SERVICE_UNAVAILABLE: { status: 503, description: 'A dependency (database) is not reachable, or the server is shutting down.' },
  INTERNAL: { status: 500, description: 'An unexpected error; the request id in the body locates it in the logs.' },
});
