import { pgErrorCode } from '../../platform/db/index.js';
import type { ModelDef, OrgModels } from '../schema/index.js';
import { recordErrors } from './records.errors.js';

/** Maps constraint errors to answers that name the field or relation; anything else is rethrown. */
export function explain(model: ModelDef, models: OrgModels, err: unknown, index?: number): never {
  const e = err as { code?: string; detail?: string; table?: string; constraint?: string };
  const at = index === undefined ? {} : { index };
  switch (pgErrorCode(err)) {
    case '23505': {
      const field = /Key \(([^)]+)\)=/.exec(e.detail ?? '')?.[1] ?? 'unknown';
      throw recordErrors.RECORD_UNIQUE_VIOLATION(`Another ${model.name} record already has this ${field}.`, [
        { ...at, field, code: 'unique', message: 'already taken' },
      ]);
    }
    // PostgreSQL 18 reports ON DELETE RESTRICT as 23001 ("is referenced from"); 15 as 23503 ("is still referenced").
    case '23001':
    case '23503': {
      if (pgErrorCode(err) === '23001' || /is (still )?referenced from/.test(e.detail ?? '')) {
        const from = e.table ?? '';
        const fk = models.byName.get(from)?.fields.find((f) => f.type === 'relation' && f.target === model.name);
        const relation = fk ? `${from}.${fk.name}` : from;
        throw recordErrors.RECORD_DELETE_RESTRICTED(
          `Records of ${from} still point at this ${model.name} through ${relation} (onDelete: restrict). Delete or reassign them first.`,
          [{ ...at, relation, code: 'restrict' }],
        );
      }
      const field = /Key \(([^)]+)\)=/.exec(e.detail ?? '')?.[1] ?? 'unknown';
      const target = model.fields.find((f) => f.name === field);
      throw recordErrors.RECORD_RELATION_INVALID(`${field} names no existing ${target?.type === 'relation' ? target.target : ''} record.`, [
        { ...at, field, code: 'relation_missing', message: 'no such record' },
      ]);
    }
    case '23514':
    case '23502':
      throw recordErrors.RECORD_INVALID('A value breaks a constraint of the model.', [
        { ...at, field: e.constraint ?? 'unknown', code: 'constraint', message: 'violates the model’s constraints' },
      ]);
    case '42703':
    case '42P01':
      throw recordErrors.QUERY_INVALID('The model changed during this request; retry.');
    default:
      throw err;
  }
}
