import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// The dependency direction of ../shared/GUIDE.md, enforced:
//   core <- data <- similarity <- models -> optimization -> core; evaluation uses models; apps use libs;
//   tools use libs. core imports no other lib.
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
            { sourceTag: 'scope:core', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:data', onlyDependOnLibsWithTags: ['scope:data', 'scope:core'] },
            { sourceTag: 'scope:similarity', onlyDependOnLibsWithTags: ['scope:data', 'scope:core'] },
            { sourceTag: 'scope:optimization', onlyDependOnLibsWithTags: ['scope:core'] },
            { sourceTag: 'scope:models', onlyDependOnLibsWithTags: ['scope:data', 'scope:similarity', 'scope:optimization', 'scope:core'] },
            { sourceTag: 'scope:evaluation', onlyDependOnLibsWithTags: ['scope:data', 'scope:similarity', 'scope:optimization', 'scope:models', 'scope:core'] },
            { sourceTag: 'scope:client', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:tools', onlyDependOnLibsWithTags: ['type:lib'] },
          ],
        },
      ],
    },
  },
];
