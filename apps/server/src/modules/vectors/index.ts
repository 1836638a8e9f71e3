export { vectorRoutes } from './vectors.routes.js';
export { searchRecords, searchWidthsOf, searchBodySchema, type SearchBody, type SearchResult, type VectorsContext } from './vectors.service.js';
export { SearchWidths } from './search-width.js';
export { vectorsModule, type VectorsNeeds } from './vectors.module.js';
