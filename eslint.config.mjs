// House rules for the code (`npm run lint`): ESLint's and typescript-eslint's recommended rules.
// The architecture's import rules (contexts through their index, no cycles) are checked by
// dependency-cruiser (`npm run lint:arch`, .dependency-cruiser.cjs).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'generated/', 'node_modules/', 'reports/', 'bench/.cache/', 'coverage/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // Unused bindings are compile errors already (noUnusedLocals, noUnusedParameters); a leading
      // underscore marks a parameter a signature needs, and a rest sibling drops a member.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // The application's code, with type information: no promise left floating or passed where a
    // callback's result is ignored, and no assertion the types make useless.
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/no-base-to-string': 'error',
    },
  },
  {
    // Tests and scripts walk untyped JSON (GraphQL answers, the bundled contract, pact files);
    // `any` is allowed there, never in src/.
    files: ['test/**/*.ts', 'scripts/**/*.ts', 'contracts/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
