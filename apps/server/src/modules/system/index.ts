export { systemRoutes, type SystemContext } from './system.routes.js';
export { adminRoutes } from './admin.routes.js';
export { rotateMasterKey, verifyAudit, type AdminContext } from './admin.js';
