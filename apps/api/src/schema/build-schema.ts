import 'reflect-metadata';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { ApiPubSub, createApiPubSub } from '../services/pubsub';
import { RESOLVERS } from './resolvers';
import { validateArgs } from './validate-args';

/**
 * The API's schema from the type-graphql classes (arguments validated with class-validator);
 * subscriptions listen to `pubSub`'s topics (the server's own; a fresh one to print the schema).
 */
export async function buildApiSchema(pubSub: ApiPubSub = createApiPubSub()): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [...RESOLVERS],
    validateFn: validateArgs,
    emitSchemaFile: false,
    pubSub,
  });
}

/** The SDL committed as apps/api/schema.graphql: sorted, with a header saying how it is made. */
export function schemaText(schema: GraphQLSchema): string {
  return (
    '# The recsys GraphQL API. Generated from the type-graphql classes in apps/api/src/schema by\n' +
    '# `npm run schema`; do not edit by hand (a test fails when this file is stale).\n\n' +
    printSchema(lexicographicSortSchema(schema)) +
    '\n'
  );
}
