// n8n's own lint rules for community packages (eslint-plugin-n8n-nodes-base): the package.json
// rules, the credential rules and the node rules, parsed with the TypeScript parser.
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';
import tsParser from '@typescript-eslint/parser';
import js from '@eslint/js';

export default [
  // test/ is type-checked by `tsc -p tsconfig.json` (the lint script runs it).
  { ignores: ['dist/**', 'node_modules/**', 'test/**', 'eslint.config.mjs'] },
  {
    // The build step and the real-n8n end-to-end script: plain Node ESM.
    files: ['scripts/**/*.mjs'],
    ...js.configs.recommended,
    languageOptions: {
      sourceType: 'module',
      globals: { process: 'readonly', console: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly' },
    },
  },
  {
    files: ['package.json'],
    languageOptions: { parser: tsParser, parserOptions: { extraFileExtensions: ['.json'] } },
    plugins: { 'n8n-nodes-base': n8nNodesBase },
    rules: n8nNodesBase.configs.community.rules,
  },
  {
    files: ['credentials/**/*.ts'],
    languageOptions: { parser: tsParser },
    plugins: { 'n8n-nodes-base': n8nNodesBase },
    rules: {
      ...n8nNodesBase.configs.credentials.rules,
      // A main-repository rule (documentation slugs in camelCase) that contradicts the community rule
      // cred-class-field-documentation-url-not-http-url, which stays on: n8n's starter turns it off too.
      'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
    },
  },
  {
    files: ['nodes/**/*.ts'],
    languageOptions: { parser: tsParser },
    plugins: { 'n8n-nodes-base': n8nNodesBase },
    rules: n8nNodesBase.configs.nodes.rules,
  },
];
