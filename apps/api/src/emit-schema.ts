// `npm run schema`: writes apps/api/schema.graphql from the type-graphql classes.
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildApiSchema, schemaText } from './schema/build-schema';

/** apps/api/schema.graphql (this file runs from apps/api/src or apps/api/dist). */
export const SCHEMA_FILE = resolve(__dirname, '..', 'schema.graphql');

if (require.main === module) {
  buildApiSchema().then(
    (schema) => {
      writeFileSync(SCHEMA_FILE, schemaText(schema));
      console.log(`wrote ${SCHEMA_FILE}`);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
