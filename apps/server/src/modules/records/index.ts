export { recordRoutes } from './records.routes.js';
export {
  withRecordOps,
  recordOpsIn,
  getRecord,
  requireModel,
  toRecord,
  type RecordsContext,
  type RecordOps,
  type ApiRecord,
  type TransactionGuard,
} from './records.store.js';
export { checkFilter, recordMatches, recordsMatchEach } from './records.service.js';
export { columnsOf } from './records.repo.js';
export { explain } from './explain.js';
export { compileFilter, parseFilter, filterFromQuery, resolvePath, OPERATORS, type FilterNode } from './filter.js';
export { parseSort, whereFor } from './list-query.js';
export { recordErrors } from './records.errors.js';
export { recordsModule } from './records.module.js';
