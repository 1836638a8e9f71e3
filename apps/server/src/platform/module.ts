import type { App } from './http/index.js';
import type { Service } from './services.js';

/** A module's HTTP routes, as a Fastify plugin registered by the composition root. */
export type Routes = (app: App) => Promise<void>;

/**
 * What every module offers the composition root besides its own API: its routes (registered in
 * roles that serve the API) and its running parts (started by `built.start()` in list order,
 * stopped in reverse). A module is built by a plain factory that takes what it needs as typed
 * arguments (other modules' contexts, settings) and constructs only: nothing runs until start.
 */
export interface AppModule {
  readonly name: string;
  readonly routes: readonly Routes[];
  readonly services: readonly Service[];
}
