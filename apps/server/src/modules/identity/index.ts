export type { IdentityContext } from './identity.context.js';
export { watchIdentityEvents } from './identity.events.js';
export { identityErrors } from './identity.errors.js';
export { warmPasswordCheck } from './password-strength.js';
export { identityModule } from './identity.module.js';
export { credentialOf } from './authenticator.js';
export { currentAuthority, type Authority, type Grantor } from './authority.js';
