/**
 * Keeps the architecture of STYLE.md: layers import downward only, modules meet through their
 * index.ts, nothing imports tests, and there are no cycles.
 *   server:  config, platform  ←  modules/<m>  ←  app.ts / main.ts / cli.ts
 *            the engine knows only platform, @infinity/contracts and @infinity/node-sdk
 *   web:     lib  ←  components  ←  features/<area> (each on its own)  ←  app  ←  main.tsx
 *            talks to the server over HTTP only: @infinity/contracts is all it shares
 * test/unit/dependency-rules.test.ts plants a violation of each rule and expects it to fire.
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
      name: 'engine-stays-free-of-other-modules',
      comment: 'the engine runs graphs of node definitions: it imports platform, @infinity/contracts, @infinity/node-sdk and npm packages, never a module',
      severity: 'error',
      from: { path: '^apps/server/src/modules/engine/', pathNot: '\\.test\\.ts$' },
      to: { path: '^apps/server/src/', pathNot: ['^apps/server/src/modules/engine/', '^apps/server/src/platform/'] },
    },
    {
      name: 'no-test-code-in-production',
      severity: 'error',
      from: { pathNot: '(\\.test\\.tsx?$|^test/|^apps/server/src/platform/testing/)' },
      to: { path: '(\\.test\\.tsx?$|^test/|^apps/server/src/platform/testing/)' },
    },
    {
      name: 'web-talks-to-the-server-over-http',
      comment: 'the UI shares only @infinity/contracts with the server: no server code, no node SDK',
      severity: 'error',
      from: { path: '^apps/web/' },
      to: { path: ['^apps/server/', '^packages/node-sdk/', '(^|/)node_modules/@infinity/(server|node-sdk)/'] },
    },
    {
      name: 'web-runs-in-the-browser',
      comment: 'no Node.js built-ins in the UI bundle (its tests may use them)',
      severity: 'error',
      from: { path: '^apps/web/src/', pathNot: '\\.test\\.tsx?$' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'web-features-stand-alone',
      comment: 'a feature folder mirrors one server module; what two features share moves to components/ or lib/',
      severity: 'error',
      from: { path: '^apps/web/src/features/([^/]+)/' },
      to: { path: '^apps/web/src/features/', pathNot: '^apps/web/src/features/$1/' },
    },
    {
      name: 'web-layers-import-downward',
      comment: 'lib ← components ← features ← app ← main.tsx',
      severity: 'error',
      from: { path: '^apps/web/src/(lib|components|features)/' },
      to: { path: '^apps/web/src/(app/|main\\.tsx$)' },
    },
    {
      name: 'web-shared-code-knows-no-feature',
      severity: 'error',
      from: { path: '^apps/web/src/(lib|components)/' },
      to: { path: '^apps/web/src/features/' },
    },
    {
      name: 'web-lib-is-below-components',
      severity: 'error',
      from: { path: '^apps/web/src/lib/' },
      to: { path: '^apps/web/src/components/' },
    },
    {
      name: 'packages-stand-alone',
      comment: 'the published packages (contracts, node SDK) never import an app',
      severity: 'error',
      from: { path: '^packages/(contracts|node-sdk)/' },
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
