import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError, commonErrors } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Content types a route takes beyond JSON (its 415 answer lists them); default: JSON only. */
    accepts?: string[];
  }
}

interface IssueLike {
  instancePath?: string;
  message?: string;
  params?: { issue?: { code?: string; path?: PropertyKey[]; message?: string } };
}

function validationDetails(err: FastifyError & { validation?: IssueLike[]; validationContext?: string }) {
  return (err.validation ?? []).map((v) => {
    const issue = (v.params as IssueLike['params'])?.issue;
    const path = issue?.path?.map(String).join('.') ?? (v.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.');
    const where = err.validationContext ?? 'body';
    return { field: path ? `${where}.${path}` : where, code: issue?.code ?? 'invalid', message: issue?.message ?? v.message ?? 'invalid' };
  });
}

/** Maps anything thrown in a request to the one error format. Unknown errors become a 500 without internals. */
export function toAppError(err: unknown, accepts: string[] = ['application/json']): AppError {
  if (err instanceof AppError) return err;
  const fe = err as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fe)) {
    const details = validationDetails(fe);
    const first = details[0];
    return commonErrors.VALIDATION_FAILED(
      first ? `Invalid request: ${first.field}: ${first.message}${details.length > 1 ? ` (and ${details.length - 1} more)` : ''}.` : 'Invalid request.',
      details,
    );
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return commonErrors.INVALID_JSON('The body is not valid JSON.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return commonErrors.INVALID_JSON('The body is empty but Content-Type says JSON.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return commonErrors.PAYLOAD_TOO_LARGE('The body is larger than this server accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return commonErrors.UNSUPPORTED_MEDIA_TYPE(
        `This Content-Type is not accepted; send ${accepts.length > 1 ? `${accepts.slice(0, -1).join(', ')} or ${accepts[accepts.length - 1]}` : accepts[0]}.`,
        { accepts },
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return commonErrors.VALIDATION_FAILED('Content-Length does not match the body.');
    default:
      break;
  }
  // Fastify's body parser reports prototype poisoning and similar client faults as 400s.
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    if (fe.statusCode === 429) return commonErrors.RATE_LIMITED(fe.message);
    return new AppError('BAD_REQUEST', fe.statusCode, fe.message);
  }
  return commonErrors.INTERNAL('Something went wrong on our side. Quote the request id when reporting it.');
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const appErr = toAppError(err, request.routeOptions?.config?.accepts);
  if (appErr.status >= 500) {
    const cause = isResponseSerializationError(err) ? { issues: (err as { cause?: unknown }).cause } : undefined;
    request.log.error({ err, cause, code: appErr.code, org: request.actor?.orgId ?? null }, 'request failed');
  }
  const body = {
    error: {
      code: appErr.code,
      message: appErr.message,
      ...(appErr.details !== undefined ? { details: appErr.details } : {}),
      requestId: request.id,
    },
  };
  return reply.status(appErr.status).type('application/json; charset=utf-8').send(JSON.stringify(body));
}
