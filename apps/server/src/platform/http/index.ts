export { createHttpServer, DEFAULT_HTTP_LIMITS, type HttpServerOptions, type HttpLimits, type App, type RouteInfo } from './server.js';
export { jsonNestsDeeper, jsonTooDeep, MAX_JSON_DEPTH } from './json-depth.js';
export { sendError, toAppError } from './error-handler.js';
export { csvSafeText, csvUnescapeText } from './csv-cell.js';
export {
  pageQuery,
  cursorPageQuery,
  wholeListQuery,
  pageOfAll,
  listCursor,
  pageOf,
  idParams,
  uuidParam,
  isoDate,
  listMeta,
  csvList,
  emptyBody,
  plainJsonSerializer,
} from './schemas.js';
export { registerRateLimit, type RateLimitClass } from './rate-limit.js';
export { findUnstorable, unstorable } from './text-guard.js';
export { ifMatchOf, withEtag } from './conditional.js';
export { errorResponse } from './openapi.js';
