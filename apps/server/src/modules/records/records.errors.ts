import { defineErrors } from '../../platform/errors.js';

export const recordErrors = defineErrors({
  RECORD_NOT_FOUND: { status: 404, description: 'No record with this id in this model.' },
  RECORD_INVALID: { status: 422, description: 'One or more values break the field definitions; details lists { field, code, message } per problem.' },
  RECORD_UNIQUE_VIOLATION: { status: 409, description: 'A unique field already holds this value in another record; details names the field.' },
  RECORD_RELATION_INVALID: { status: 409, description: 'A relation field names a record that does not exist in its target model.' },
  RECORD_DELETE_RESTRICTED: {
    status: 409,
    description: 'Other records point at this one through a relation with onDelete "restrict"; details names the relation.',
  },
  EMBEDDING_NOT_ENABLED: {
    status: 409,
    description: 'Vector or hybrid search on a model without embeddings; enable them with PATCH /api/v1/models/{name} {embedding}, or use mode "keyword".',
  },
  QUERY_INVALID: { status: 400, description: 'The list query (filter, sort, fields, expand, cursor) is malformed; the message says which part.' },
  IMPORT_REJECTED: {
    status: 422,
    description: 'An all-or-nothing import found invalid rows; details is the report with each rejected row and why. Nothing was imported.',
  },
  BULK_INVALID: { status: 422, description: 'A bulk operation was refused as a whole; details lists { index, field, code, message } per refused item.' },
});
