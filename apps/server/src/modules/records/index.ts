export { withRecordOps, getRecord, recordMatches, type RecordsContext, type RecordOps, type ApiRecord, type TransactionGuard } from './records.service.js';
export { compileFilter, parseFilter, filterFromQuery, resolvePath, OPERATORS, type FilterNode } from './filter.js';
export { parseSort } from './list-query.js';
export { recordErrors } from './records.errors.js';
export { searchRecords, searchWidthsOf, searchBodySchema, type SearchBody, type SearchResult } from './search.js';
export { recordsModule } from './records.module.js';
