import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * The typed client is generated from the API's committed schema and the operations in
 * src/operations (`npm run codegen`); a test fails when the generated file is stale.
 */
export const codegenConfig: CodegenConfig = {
  schema: 'apps/api/schema.graphql',
  documents: 'libs/client/src/operations/*.graphql',
  generates: {
    'libs/client/src/generated/graphql.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        scalars: { DateTime: 'string', JSONObject: 'Record<string, unknown>' },
        enumsAsTypes: true,
        useTypeImports: true,
        avoidOptionals: { field: true, inputValue: false, object: true },
      },
    },
  },
  hooks: {},
};

export default codegenConfig;
