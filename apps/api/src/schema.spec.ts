import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { buildSchema as parseSdl, GraphQLObjectType } from 'graphql';
import { SCHEMA_FILE } from './emit-schema';
import { buildApiSchema, schemaText } from './schema/build-schema';

describe('schema.graphql', () => {
  it('is exactly what the type-graphql classes generate (run `npm run schema` after changing them)', async () => {
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    const generated = schemaText(await buildApiSchema());
    expect(committed).toBe(generated);
  });

  it('has the queries, mutations and subscription the API promises', () => {
    const schema = parseSdl(readFileSync(SCHEMA_FILE, 'utf8'));
    const fields = (type: GraphQLObjectType | null | undefined) => Object.keys(type?.getFields() ?? {}).sort();
    expect(fields(schema.getQueryType())).toEqual(
      ['activeModel', 'activeModels', 'dataSummary', 'modelKinds', 'models', 'movie', 'movies', 'ping', 'prediction', 'predictions', 'recommendations', 'similarMovies', 'trainingRun', 'trainingRuns', 'user', 'users'].sort(),
    );
    expect(fields(schema.getMutationType())).toEqual(['interact', 'rateMovie', 'retrain']);
    expect(fields(schema.getSubscriptionType())).toEqual(['trainingRunUpdated']);
    const movie = schema.getType('Movie') as GraphQLObjectType;
    expect(Object.keys(movie.getFields())).toEqual(expect.arrayContaining(['id', 'title', 'year', 'ratingCount', 'meanRating', 'similar', 'ratings']));
    const similarArgs = movie.getFields().similar.args.map((a) => a.name).sort();
    expect(similarArgs).toEqual(['metric', 'minSupport', 'n']);
    const run = schema.getType('TrainingRun') as GraphQLObjectType;
    expect(Object.keys(run.getFields())).toEqual(expect.arrayContaining(['id', 'status', 'model', 'parameters', 'epochs', 'error', 'queuedAt', 'startedAt', 'finishedAt']));
  });
});
