import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// The dependency direction of ../shared/GUIDE.md, enforced:
//   core <- data <- similarity <- models -> optimization -> core; evaluation uses models; apps use libs;
//   tools use libs. core imports no other lib.
// Every lib's and app's specs may use `testing` (test support), which depends only on core; only
// *.spec.ts files and test helpers (test/, testing/ folders) may import it.
export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.js', '**/*.cjs', '**/*.mjs', 'libs/client/src/generated/**', 'libs/models/assembly/**', 'libs/similarity/assembly/**', 'libs/client/codegen.ts'] },
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
            { sourceTag: 'scope:core', onlyDependOnLibsWithTags: ['scope:testing'] },
            { sourceTag: 'scope:data', onlyDependOnLibsWithTags: ['scope:data', 'scope:core', 'scope:testing'] },
            { sourceTag: 'scope:similarity', onlyDependOnLibsWithTags: ['scope:data', 'scope:core', 'scope:testing'] },
            { sourceTag: 'scope:optimization', onlyDependOnLibsWithTags: ['scope:core', 'scope:testing'] },
            { sourceTag: 'scope:models', onlyDependOnLibsWithTags: ['scope:data', 'scope:similarity', 'scope:optimization', 'scope:core', 'scope:testing'] },
            { sourceTag: 'scope:evaluation', onlyDependOnLibsWithTags: ['scope:data', 'scope:similarity', 'scope:optimization', 'scope:models', 'scope:core', 'scope:testing'] },
            { sourceTag: 'scope:client', onlyDependOnLibsWithTags: ['scope:testing'] },
            { sourceTag: 'scope:charts', onlyDependOnLibsWithTags: ['scope:testing'] },
            { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['scope:core'] },
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
