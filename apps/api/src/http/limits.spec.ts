import 'reflect-metadata';
import { GraphQLSchema, parse } from 'graphql';
import { buildApiSchema } from '../schema/build-schema';
import { costVariables } from './limits';

describe('costVariables', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildApiSchema();
  });
  const of = (query: string) => costVariables(schema, parse(query));

  it('leaves out variables used only by constant-cost fields (prediction, user, movie ids)', () => {
    expect(of('query($u: Int!, $m: Int!) { prediction(userId: $u, movieId: $m) { rating isFallback } }')).toEqual([]);
    expect(of('query($id: Int!) { user(id: $id) { id ratingCount } movie(id: $id) { title } }')).toEqual([]);
    expect(of('{ ping }')).toEqual([]);
  });

  it('keeps variables of fields whose cost is a function of their arguments, also nested in lists and fragments', () => {
    expect(of('query($n: Int!, $u: Int!) { users(first: $n) { totalCount } user(id: $u) { id } }')).toEqual(['n']);
    expect(of('query($n: Int!) { ...F } fragment F on Query { movies(first: $n) { totalCount } }')).toEqual(['n']);
    expect(of('query($u: Int!) { predictions(pairs: [{ userId: $u, movieId: 1 }]) { rating } }')).toEqual(['u']);
    expect(of('query($u: Int!, $k: Int!) { user(id: $u) { recommendations(n: $k) { rank } } }')).toEqual(['k']);
  });

  it('keeps variables of directives and variables used by both kinds of field', () => {
    expect(of('query($b: Boolean!, $u: Int!) { user(id: $u) @include(if: $b) { id } }')).toEqual(['b']);
    expect(of('query($x: Int!) { user(id: $x) { id } users(first: $x) { totalCount } }')).toEqual(['x']);
  });
});
