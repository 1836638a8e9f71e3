// ESLint with type information (typescript-eslint's type-checked rules) over the server and contracts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'apps/web/vite.config.ts',
      'apps/web/scripts/**',
      'coverage/**',
      '.infinity/**',
      'packages/n8n-nodes-infinity/**',
      'integrations/**',
    ],
  },
  // The integration packages lint themselves (`npm run lint` runs theirs): n8n's node rules, Zapier's CommonJS app.
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      // Fastify handlers and hooks are async by contract even when they await nothing.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.name='eval']", message: 'eval is forbidden in the server.' },
        { selector: "NewExpression[callee.name='Function']", message: 'new Function is forbidden in the server.' },
      ],
    },
  },
  {
    // The web UI has its own compiler settings (DOM, JSX, bundler resolution).
    files: ['apps/web/src/**/*.{ts,tsx}'],
    languageOptions: { parserOptions: { project: './apps/web/tsconfig.json', tsconfigRootDir: import.meta.dirname } },
  },
  {
    // Tests and benchmarks poke at responses as untyped JSON; that is their job.
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts', 'apps/server/src/platform/testing/**'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  { files: ['eslint.config.js', '.dependency-cruiser.cjs', 'apps/web/public/**/*.js', 'apps/server/bin/*.js'], ...tseslint.configs.disableTypeChecked },
  // The `infinity` command's shim: plain Node JavaScript (it loads the built CLI).
  { files: ['apps/server/bin/*.js'], languageOptions: { globals: { process: 'readonly', URL: 'readonly' } } },
  // The embeddable widget is plain browser JavaScript served as is.
  {
    files: ['apps/web/public/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { document: 'readonly', location: 'readonly', HTMLElement: 'readonly', customElements: 'readonly', fetch: 'readonly', URL: 'readonly' },
    },
  },
  { files: ['.dependency-cruiser.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable' } } },
);
