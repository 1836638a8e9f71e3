export { recordRoutes } from './records.routes.js';
export type { RecordsContext } from './records.service.js';
export { compileFilter, parseFilter, filterFromQuery, OPERATORS, type FilterNode } from './filter.js';
export { recordErrors } from './records.errors.js';
