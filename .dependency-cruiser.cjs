/**
 * Keeps the architecture of STYLE.md: layers import downward only, modules meet through their
 * index.ts, nothing imports tests, and there are no cycles.
 *   config, platform  ←  modules/<m>  ←  app.ts / main.ts / cli.ts
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'platform-is-domain-free',
      comment: 'platform/ knows nothing of modules or the composition root',
      severity: 'error',
      from: { path: '^apps/server/src/platform/', pathNot: ['^apps/server/src/platform/testing/', '\\.test\\.ts$'] },
      to: { path: '^apps/server/src/(modules|app|main|cli|runtime)' },
    },
    {
      name: 'config-is-a-leaf',
      severity: 'error',
      from: { path: '^apps/server/src/config/' },
      to: { path: '^apps/server/src/(platform|modules|app|main|cli)' },
    },
    {
      name: 'modules-meet-through-index',
      comment: 'another module is used only through its index.ts',
      severity: 'error',
      from: { path: '^apps/server/src/modules/([^/]+)/', pathNot: '\\.test\\.ts$' },
      to: { path: '^apps/server/src/modules/([^/]+)/.+', pathNot: ['^apps/server/src/modules/$1/', '^apps/server/src/modules/[^/]+/index\\.ts$'] },
    },
    {
      name: 'modules-do-not-reach-up',
      severity: 'error',
      from: { path: '^apps/server/src/modules/', pathNot: '\\.test\\.ts$' },
      to: { path: '^apps/server/src/(app|main|cli|runtime)\\.ts$' },
    },
    {
      name: 'access-stays-below-identity',
      comment: 'the guard is injected with an authenticator; it never imports identity',
      severity: 'error',
      from: { path: '^apps/server/src/modules/(access|audit)/' },
      to: { path: '^apps/server/src/modules/(identity|vault|system)/' },
    },
    {
      name: 'no-test-code-in-production',
      severity: 'error',
      from: { pathNot: '(\\.test\\.ts$|^test/|^apps/server/src/platform/testing/)' },
      to: { path: '(\\.test\\.ts$|^test/|^apps/server/src/platform/testing/)' },
    },
    {
      name: 'contracts-stand-alone',
      severity: 'error',
      from: { path: '^packages/contracts/' },
      to: { path: '^apps/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    exclude: { path: '(^|/)dist/' },
  },
};
