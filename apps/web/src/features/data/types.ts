/** Model shapes come from the shared contracts (what GET /api/v1/models answers). */
import type { ModelField } from '@infinity/contracts';

export type { EmbeddingSettings, Model, ModelField as FieldDef } from '@infinity/contracts';

export type RecordRow = Record<string, unknown> & { id: string };

export const FIELD_TYPES: ModelField['type'][] = ['string', 'text', 'integer', 'number', 'boolean', 'date', 'datetime', 'json', 'enum', 'relation'];
