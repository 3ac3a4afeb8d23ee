// Lint: typescript-eslint's type-aware recommended rules, React hooks, and the module boundaries
// that keep data flowing one way (files → formats → merge → engine → result → app).
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'dist-cli/',
      '.dist-cli-*/',
      'node_modules/',
      'public/',
      'test-results/',
      'playwright-report/',
      '**/__fixtures__/',
      'tmp/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['app/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/app/**', '**/app'],
              message: 'src/ is the engine and must not import app/ (data flows one way: engine → app).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/flow/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/app/**', '**/app', '../cli/**', 'node:*'],
              message:
                'src/flow/ is the product flow shared by the CLI and the studio: no app/, no src/cli, no node: modules (pass I/O in as sinks and sources).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/formats/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/app/**', '../merge/**', '../gpu/**', '../inference/**', '../cli/**', '../../*/**'],
              message: 'src/formats/ is the bottom layer: it imports nothing else of ours.',
            },
          ],
        },
      ],
    },
  },
);
