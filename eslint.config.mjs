// Lint rules every part of Ballast follows (`npm run check:lint`, part of `npm test`). Formatting is
// Prettier's job, layering dependency-cruiser's (.dependency-cruiser.cjs); this file is about code.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.data/', 'grpc/generated/', 'coverage/', 'out/', 'examples/**/gen/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-var': 'error',
      'prefer-const': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      // Workflow code must stay deterministic: the workflow sandbox replaces these, but say so loudly.
      'no-restricted-globals': ['error', { name: 'setImmediate', message: 'use timers the runtime provides' }],
    },
  },
  {
    // The console's dashboard runs in the browser, with uPlot loaded beside it.
    files: ['console/static/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser, uPlot: 'readonly' } },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
