import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// The dependency direction of ../shared/GUIDE.md, enforced:
//   data <- similarity <- models -> optimization; evaluation uses models; apps use libs; tools use libs.
// Every lib's and app's specs may use `testing` (test support), which depends on nothing; only
// *.spec.ts files and test helpers (test/, testing/ folders) may import it.
export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.js', '**/*.cjs', '**/*.mjs', 'libs/client/src/generated/**', 'libs/models/assembly/**', 'libs/client/codegen.ts'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'scope:data', onlyDependOnLibsWithTags: ['scope:data', 'scope:testing'] },
            { sourceTag: 'scope:similarity', onlyDependOnLibsWithTags: ['scope:data', 'scope:testing'] },
            { sourceTag: 'scope:optimization', onlyDependOnLibsWithTags: ['scope:testing'] },
            { sourceTag: 'scope:models', onlyDependOnLibsWithTags: ['scope:data', 'scope:similarity', 'scope:optimization', 'scope:testing'] },
            { sourceTag: 'scope:evaluation', onlyDependOnLibsWithTags: ['scope:data', 'scope:similarity', 'scope:models', 'scope:testing'] },
            { sourceTag: 'scope:client', onlyDependOnLibsWithTags: ['scope:testing'] },
            { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:tools', onlyDependOnLibsWithTags: ['type:lib'] },
          ],
        },
      ],
    },
  },
  {
    // @recsys/testing is test support: production code never imports it.
    files: ['**/*.ts'],
    ignores: ['**/*.spec.ts', '**/test/**', '**/testing/**', 'libs/testing/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: '@recsys/testing', message: 'test support: import it only from *.spec.ts files and test helpers' }] }],
    },
  },
];
