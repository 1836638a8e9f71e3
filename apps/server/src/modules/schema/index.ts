export { ModelCache, inverseRelations, type OrgModels, type InverseRelation } from './model-cache.js';
export { ensureModel, type SchemaContext } from './schema.service.js';
export type { EmbeddingConfig, FieldDef, ModelDef, RelationField } from './fields.js';
export { schemaErrors } from './schema.errors.js';
export { createForLoad, finishRelations, type ModelShape } from './rebuild.js';
export { searchDocumentColumn } from './ddl.js';
export { schemaModule } from './schema.module.js';
export { getModel, listModelDefs } from './schema.service.js';
