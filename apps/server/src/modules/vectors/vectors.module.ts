import type { Kysely } from '../../platform/db/index.js';
import type { AppModule } from '../../platform/module.js';
import type { ModelCache } from '../schema/index.js';
import { SearchWidths } from './search-width.js';
import { vectorRoutes } from './vectors.routes.js';
import type { VectorsContext } from './vectors.service.js';

export interface VectorsNeeds {
  db: Kysely<object>;
  cache: ModelCache;
  vector: boolean;
  /** Embeds a search text with a model's embedding settings (the AI module). */
  embedQuery: NonNullable<VectorsContext['embedQuery']>;
  /** The recall@k the measured search widths must reach (INFINITY_SEARCH_RECALL). */
  searchRecall: number;
}

/** Similarity, keyword and hybrid search over the records of models with embeddings. */
export function vectorsModule(n: VectorsNeeds): AppModule & { context: VectorsContext } {
  const widths = new SearchWidths({ target: n.searchRecall });
  const context: VectorsContext = { db: n.db, cache: n.cache, vector: n.vector, embedQuery: n.embedQuery, widths };
  return {
    name: 'vectors',
    context,
    routes: [vectorRoutes(context)],
    // Search-width measurements run after searches; stopping waits for the one under way.
    services: [{ name: 'search widths', stop: () => widths.stop() }],
  };
}
