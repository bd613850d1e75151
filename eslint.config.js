import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'packages/*/dist/', 'node_modules/', 'data/', '.kafka/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  {
    // The wire contract is shared with clients and UIs: it may import only its own files and
    // the schema library, never the server.
    files: ['src/contract/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(?!typebox(/|$)|\\./).*', message: 'src/contract may import only typebox and its own files.' },
          ],
        },
      ],
    },
  },
  {
    // node:test's describe/test return promises the runner itself awaits.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      // Without a message, a failing assert.ok re-reads and parses the test file to describe the
      // call (nodejs/node#52677): minutes for a large file under load, mistaken for a hang.
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name='assert'][callee.property.name='ok'][arguments.length=1]",
          message: 'Give assert.ok a message (a failing assert.ok without one re-parses the test file).',
        },
        { selector: "CallExpression[callee.name='assert'][arguments.length=1]", message: 'Give assert a message (a failing assert without one re-parses the test file).' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', fetch: 'readonly' },
    },
  },
  {
    // The web UI's modules run in the browser as they are (no build step).
    files: ['ui/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      parserOptions: { projectService: false, project: false },
      globals: {
        document: 'readonly',
        window: 'readonly',
        history: 'readonly',
        location: 'readonly',
        sessionStorage: 'readonly',
        fetch: 'readonly',
        URLSearchParams: 'readonly',
        Element: 'readonly',
      },
    },
  },
);
