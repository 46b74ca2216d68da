import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * The typed client is generated from the API's committed schema and the operations in
 * src/operations (`npm run codegen`); a test fails when the generated file is stale.
 */
// RECSYS_CODEGEN_OUT redirects the output (the staleness test generates into a temp file).
const output = process.env.RECSYS_CODEGEN_OUT ?? 'libs/client/src/generated/graphql.ts';

export const codegenConfig: CodegenConfig = {
  schema: 'apps/api/schema.graphql',
  documents: 'libs/client/src/operations/*.graphql',
  generates: {
    [output]: {
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
