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
export { checkFilter, recordMatches, recordsMatchEach, listRecords, getVersionedRecord } from './records.service.js';
export { createRecord, updateRecord } from './records.store.js';
export { columnsOf } from './records.repo.js';
export { explain } from './explain.js';
export { compileFilter, parseFilter, filterFromQuery, resolvePath, OPERATORS, type FilterNode } from './filter.js';
export { parseSort, whereFor, parseListQuery } from './list-query.js';
export { recordErrors } from './records.errors.js';
export { recordsModule } from './records.module.js';
