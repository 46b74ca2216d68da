import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// The dependency direction of ../shared/GUIDE.md, enforced:
//   data <- similarity <- models -> optimization; evaluation uses models; apps use libs; tools use libs.
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
            { sourceTag: 'scope:data', onlyDependOnLibsWithTags: ['scope:data'] },
            { sourceTag: 'scope:similarity', onlyDependOnLibsWithTags: ['scope:data'] },
            { sourceTag: 'scope:optimization', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:models', onlyDependOnLibsWithTags: ['scope:data', 'scope:similarity', 'scope:optimization'] },
            { sourceTag: 'scope:evaluation', onlyDependOnLibsWithTags: ['scope:data', 'scope:similarity', 'scope:models'] },
            { sourceTag: 'scope:client', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:tools', onlyDependOnLibsWithTags: ['type:lib'] },
          ],
        },
      ],
    },
  },
];
